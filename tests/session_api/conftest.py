"""Fixtures for session-api: settings for tests, a respx stand-in for the payment gateway, signed
events, accounts with tokens, and the app over ASGI (in the test's rolled-back transaction, or
committing for real where other connections must see the rows)."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.auth import service as auth_service
from session_api.config import DEV_WEBHOOK_SECRET, Settings
from session_api.integrations.gateway import GatewayClient
from session_api.main import create_app
from session_api.models import User, UserRole
from session_api.therapist import service as therapist_service
from session_api.therapist.schemas import TherapistCreate
from session_api.user import service as user_service
from shared.testing import open_asgi_client
from shared.webhook_signing import sign

GATEWAY_URL = "http://gateway.test"
PASSWORD = "correct horse battery"
PHONE = "0712345678"


def make_settings(database_url: str, redis_url: str, **overrides: Any) -> Settings:
    return Settings(
        **{
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ENVIRONMENT": "testing",
            "GATEWAY_URL": GATEWAY_URL,
            "SEED_ON_STARTUP": False,
            # Cheap hashing: the cost is a setting, the algorithm is the same.
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 64,
            "ARGON2_PARALLELISM": 1,
            "SSE_MAX_DURATION_S": 20,
            **overrides,
        }
    )


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url)


@dataclass
class FakeGateway:
    """The payment gateway's API as issue 4 describes it, mocked with respx: idempotent creates
    (a repeated key replays the first payment), reads, an outage switch, and signed events."""

    router: respx.MockRouter = field(
        default_factory=lambda: respx.MockRouter(base_url=GATEWAY_URL, assert_all_called=False)
    )
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    creates: list[httpx.Request] = field(default_factory=list)
    outage: Exception | httpx.Response | None = None
    initial_status: str = "sent"
    sequences: dict[str, itertools.count[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.router.post("/v1/payments").mock(side_effect=self._create)
        self.router.get(path__regex=r"^/v1/payments/(?P<payment_id>[^/]+)$").mock(
            side_effect=self._get
        )

    def client(self) -> GatewayClient:
        return GatewayClient(
            base_url=GATEWAY_URL,
            api_key="test-service-key",
            timeout_s=5,
            connect_timeout_s=1,
            transport=httpx.MockTransport(self.router.async_handler),
        )

    def _create(self, request: httpx.Request) -> httpx.Response:
        self.creates.append(request)
        if isinstance(self.outage, Exception):
            raise self.outage
        if isinstance(self.outage, httpx.Response):
            return self.outage
        key = request.headers["Idempotency-Key"]
        if key in self.by_key:
            return httpx.Response(201, json=self.payments[self.by_key[key]])
        body = json.loads(request.content)
        payment_id = f"pay_{uuid.uuid4().hex[:20]}"
        now = datetime.now(UTC).isoformat()
        self.payments[payment_id] = {
            "id": payment_id,
            "status": self.initial_status,
            "amount": body["amount"],
            "phone": "2547******" + body["phone"][-2:],
            "account_reference": body["account_reference"],
            "description": body["description"],
            "metadata": body["metadata"],
            "environment": "sandbox",
            "checkout_request_id": f"ws_CO_{uuid.uuid4().hex[:16]}",
            "merchant_request_id": f"{uuid.uuid4().hex[:8]}",
            "result_code": None,
            "result_desc": None,
            "receipt_number": None,
            "customer_message": "Check your phone and enter your M-Pesa PIN",
            "reason": None,
            "created_at": now,
            "updated_at": now,
        }
        self.by_key[key] = payment_id
        return httpx.Response(201, json=self.payments[payment_id])

    def _get(self, request: httpx.Request, payment_id: str) -> httpx.Response:
        if payment_id not in self.payments:
            return httpx.Response(404, json={"error": "PaymentNotFound", "detail": "no payment"})
        return httpx.Response(200, json=self.payments[payment_id])

    def last_payment(self) -> dict[str, Any]:
        return self.payments[self.by_key[self.creates[-1].headers["Idempotency-Key"]]]

    def event(
        self,
        payment_id: str,
        status: str,
        *,
        receipt_number: str | None = None,
        reason: str | None = None,
        customer_message: str | None = None,
        result_code: str | None = None,
        sequence: int | None = None,
    ) -> dict[str, Any]:
        """The payment moves to `status` (as the gateway would record it) and the event body."""
        payment = self.payments[payment_id]
        payment.update(
            status=status,
            receipt_number=receipt_number,
            reason=reason,
            result_code=result_code,
            customer_message=customer_message or payment["customer_message"],
            updated_at=datetime.now(UTC).isoformat(),
        )
        counter = self.sequences.setdefault(payment_id, itertools.count(1))
        return {
            "id": f"evt_{uuid.uuid4().hex[:20]}",
            "type": f"payment.{status}",
            "created_at": datetime.now(UTC).isoformat(),
            "data": dict(payment),
            "sequence": sequence if sequence is not None else next(counter),
        }

    def paid(self, payment_id: str, receipt: str = "SGH4TQ7XK2") -> dict[str, Any]:
        return self.event(payment_id, "completed", receipt_number=receipt, result_code="0")

    def cancelled(self, payment_id: str) -> dict[str, Any]:
        return self.event(
            payment_id,
            "cancelled",
            reason="customer_cancelled",
            customer_message="You cancelled the M-Pesa prompt.",
            result_code="1032",
        )


def signed(
    event: dict[str, Any],
    *,
    secret: str = DEV_WEBHOOK_SECRET,
    webhook_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of the event as the gateway would POST it."""
    body = json.dumps(event).encode()
    msg_id = webhook_id or f"msg_{event['id']}"
    ts = int(time.time()) if timestamp is None else timestamp
    return (
        {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=ts, body=body),
        },
        body,
    )


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def app(settings: Settings, gateway: FakeGateway) -> FastAPI:
    return create_app(settings, gateway=gateway.client())


@pytest.fixture
async def api(app: FastAPI, db_session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process, every request inside the test's rolled-back transaction."""
    async with open_asgi_client(app, session=db_session) as client:
        yield client


@pytest.fixture
async def live_api(app: FastAPI, clean_database: None) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process with its own committing sessions, for tests where concurrent requests
    or stream re-reads must see each other's rows."""
    async with open_asgi_client(app) as client:
        yield client


@dataclass
class Account:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def id(self) -> str:
        return str(self.user.id)


MakeAccount = Callable[..., Awaitable[Account]]


async def make_account(
    session: AsyncSession,
    settings: Settings,
    *,
    role: UserRole = UserRole.client,
    rate: int = 2_500,
    name: str | None = None,
) -> Account:
    email = f"{role.value}-{uuid.uuid4().hex[:10]}@example.com"
    full_name = name or f"Test {role.value.title()}"
    if role is UserRole.therapist:
        user, _ = await therapist_service.create_therapist(
            session,
            settings=settings,
            request=TherapistCreate(
                email=email, password=PASSWORD, full_name=full_name, session_rate=rate
            ),
        )
    else:
        user = await user_service.create_user(
            session,
            email=email,
            password_hash=await auth_service.hash_password(settings, PASSWORD),
            full_name=full_name,
            role=role,
        )
    return Account(user=user, token=auth_service.issue_token(settings, user).access_token)


@pytest.fixture
def account(db_session: AsyncSession, settings: Settings) -> MakeAccount:
    """`await account(role=UserRole.therapist, rate=3000)`: a user in the test transaction."""

    async def make(**kwargs: Any) -> Account:
        return await make_account(db_session, settings, **kwargs)

    return make


@pytest.fixture
def live_account(app: FastAPI, settings: Settings, live_api: httpx.AsyncClient) -> MakeAccount:
    """Like `account`, committed for real."""

    async def make(**kwargs: Any) -> Account:
        async with app.state.sessionmaker() as session, session.begin():
            return await make_account(session, settings, **kwargs)

    return make


def future(days: int = 3, hour: int = 9) -> str:
    moment = (datetime.now(UTC) + timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    return moment.isoformat()


async def approved_booking(
    api: httpx.AsyncClient, client: Account, therapist: Account, *, days: int = 3
) -> dict[str, Any]:
    response = await api.post(
        "/v1/bookings",
        json={"therapist_id": therapist.id, "scheduled_at": future(days)},
        headers=client.headers,
    )
    assert response.status_code == 201, response.text
    booking_id = response.json()["id"]
    response = await api.post(f"/v1/bookings/{booking_id}/approve", headers=therapist.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliver(api: httpx.AsyncClient, event: dict[str, Any], **kwargs: Any) -> httpx.Response:
    headers, body = signed(event, **kwargs)
    return await api.post("/internal/payment-events", content=body, headers=headers)
