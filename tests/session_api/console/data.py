"""Rows for the console's tests, written straight into the test's transaction: attempts of
bookings, orders and deposits with the dates, amounts and statuses a test needs, and a stand-in
for the gateway's console endpoints on the respx gateway."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import (
    AttemptStatus,
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    PayableType,
    PaymentAttempt,
    SessionType,
    User,
    Wallet,
    WalletDeposit,
)
from tests.session_api.fixtures import FakeGateway

BASE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@dataclass
class GatewayFacts:
    """The gateway's console endpoints on the respx gateway: facts by payment id, timelines by
    payment id; every request kept."""

    gateway: FakeGateway
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    timelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, Any] | httpx.Response | None = None
    # Gateway payment ids by phone (254XXXXXXXXX), for `GET /v1/payments?phone=`.
    phones: dict[str, list[str]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        router = self.gateway.router
        router.post("/v1/console/payments/facts").mock(side_effect=self._facts)
        router.get(path__regex=r"^/v1/console/payments/(?P<payment_id>[^/]+)/timeline$").mock(
            side_effect=self._timeline
        )
        router.get("/v1/console/stats").mock(side_effect=self._stats)
        router.get("/v1/payments").mock(side_effect=self._by_phone)

    def _by_phone(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        ids = self.phones.get(request.url.params["phone"], [])
        return httpx.Response(200, json={"items": [{"id": i} for i in ids], "next_cursor": None})

    def _facts(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        ids = json.loads(request.content)["ids"]
        return httpx.Response(200, json=[self.facts[i] for i in ids if i in self.facts])

    def _timeline(self, request: httpx.Request, payment_id: str) -> httpx.Response:
        self.requests.append(request)
        if payment_id not in self.timelines:
            return httpx.Response(404, json={"error": "PaymentNotFound", "detail": "no payment"})
        return httpx.Response(200, json=self.timelines[payment_id])

    def _stats(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self.stats, httpx.Response):
            return self.stats
        return httpx.Response(200, json=self.stats)

    def fact(self, attempt: PaymentAttempt, **values: Any) -> None:
        self.facts[attempt.gateway_payment_id] = {
            "id": attempt.gateway_payment_id,
            "status": "completed",
            "environment": "sandbox",
            "phone": attempt.phone_masked,
            "reason": None,
            "result_code": None,
            "receipt_number": attempt.receipt_number,
            "review_reason": None,
            "verdict": None,
            "open_exception": False,
            **values,
        }


@dataclass
class Rows:
    """Makes payables and attempts in the test's transaction."""

    session: AsyncSession

    async def booking(
        self, client: User, therapist: User, *, at: datetime | None = None, price: int = 2_500
    ) -> Booking:
        booking = Booking(
            id=uuid.uuid4(),
            client_id=client.id,
            therapist_id=therapist.id,
            session_type=SessionType.individual,
            scheduled_at=at or BASE + timedelta(days=5),
            duration_minutes=50,
            price=price,
            status=BookingStatus.approved,
        )
        self.session.add(booking)
        await self.session.flush()
        return booking

    async def order(self, client: User, *, total: int = 1_200) -> Order:
        order = Order(
            id=uuid.uuid4(),
            user_id=client.id,
            status=OrderStatus.pending,
            subtotal=total,
            delivery_fee=0,
            total=total,
            delivery={"method": "pickup"},
            customer={"name": client.full_name},
        )
        self.session.add(order)
        await self.session.flush()
        return order

    async def deposit(self, client: User, *, amount: int = 500) -> WalletDeposit:
        wallet = await self.session.scalar(select(Wallet).where(Wallet.user_id == client.id))
        if wallet is None:
            wallet = Wallet(id=uuid.uuid4(), user_id=client.id, balance=0)
            self.session.add(wallet)
            await self.session.flush()
        deposit = WalletDeposit(
            id=uuid.uuid4(),
            wallet_id=wallet.id,
            user_id=client.id,
            amount=amount,
            phone_masked="254*****0000",
            status=AttemptStatus.processing,
        )
        self.session.add(deposit)
        await self.session.flush()
        return deposit

    async def attempt(
        self,
        payable: Booking | Order | WalletDeposit,
        *,
        user: User,
        created_at: datetime,
        amount: int | None = None,
        status: AttemptStatus = AttemptStatus.paid,
        number: int = 1,
        phone: str = "254*****5678",
        receipt: str | None = None,
        checkout: str | None = None,
        environment: str | None = "sandbox",
        reason: str | None = None,
    ) -> PaymentAttempt:
        kind = {Booking: PayableType.booking, Order: PayableType.order}.get(
            type(payable), PayableType.deposit
        )
        default_amount = (
            payable.price
            if isinstance(payable, Booking)
            else payable.total
            if isinstance(payable, Order)
            else payable.amount
        )
        attempt = PaymentAttempt(
            id=uuid.uuid4(),
            user_id=user.id,
            payable_type=kind,
            payable_id=payable.id,
            attempt_number=number,
            idempotency_key=f"test:{uuid.uuid4()}",
            gateway_payment_id=str(uuid.uuid4()),
            amount=amount or default_amount,
            phone_masked=phone,
            status=status,
            gateway_status="completed" if status is AttemptStatus.paid else status.value,
            customer_message="",
            reason=reason,
            receipt_number=receipt,
            checkout_request_id=checkout or f"ws_CO_{uuid.uuid4().hex[:20]}",
            environment=environment,
            created_at=created_at,
            updated_at=created_at,
        )
        self.session.add(attempt)
        await self.session.flush()
        return attempt
