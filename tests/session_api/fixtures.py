"""What session-api's tests build on: settings for tests (the shared harness's), a respx stand-in
for the payment gateway, signed events, accounts with tokens, and bookings ready to pay."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import respx
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.auth import service as auth_service
from session_api.config import Settings
from session_api.integrations.gateway import GatewayClient
from session_api.models import User, UserRole
from session_api.therapist import service as therapist_service
from session_api.therapist.schemas import TherapistCreate
from session_api.user import service as user_service
from shared import webhook_signing
from shared.testing.system import SESSION_API_DEFAULTS, session_api_settings
from shared.webhook_signing import DEV_WEBHOOK_SECRET

GATEWAY_URL: str = SESSION_API_DEFAULTS["GATEWAY_URL"]
PASSWORD = "correct horse battery"
PHONE = "0712345678"

make_settings = session_api_settings


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
    erasures: list[dict[str, Any]] = field(default_factory=list)
    outage: Exception | httpx.Response | None = None
    initial_status: str = "sent"
    sequences: dict[str, itertools.count[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.router.post("/v1/payments").mock(side_effect=self._create)
        self.router.get(path__regex=r"^/v1/payments/(?P<payment_id>[^/]+)$").mock(
            side_effect=self._get
        )
        self.router.post("/v1/erasures").mock(side_effect=self._erase)

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

    def _erase(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.erasures.append(body)
        known = [self.payments[i] for i in body["payment_ids"] if i in self.payments]
        return httpx.Response(
            200,
            json={
                "payments": len(known),
                "callbacks": 0,
                "records": 0,
                "checkout_request_ids": {p["id"]: p["checkout_request_id"] for p in known},
            },
        )

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
    return webhook_signing.headers(secret, msg_id=msg_id, timestamp=ts, body=body), body


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
    phone: str | None = None,
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
    # 2547XXXXXXXX, as accounts store it: what SMS reminders go to.
    user.phone = phone
    return Account(user=user, token=auth_service.issue_token(settings, user).access_token)


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
