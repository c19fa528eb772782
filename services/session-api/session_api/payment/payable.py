"""The one payment flow of every payable (a booking, an order, a wallet deposit).

Paying is *commit, then call out* (``shared.db.commit``): the request plans the attempt and commits,
so no row lock or connection is held while the gateway answers; then it locks the payable and
records the answer. Two requests that plan the same attempt send the gateway the same
Idempotency-Key, so they share one payment, and the second to record it joins the first. An event
for the payment takes the same payable lock, so it waits for the attempt or adopts it.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.config import Settings
from session_api.integrations.gateway import GatewayClient, GatewayPayment
from session_api.models import (
    AttemptStatus,
    Booking,
    Order,
    PayableStatus,
    PayableType,
    PaymentAttempt,
)
from session_api.notification import service as notification_service
from session_api.payment import service as payment_service
from session_api.payment.service import Charge, PayableRef
from session_api.repository import Repository
from shared import db
from shared.phone import keyed_phone_hash, mask_phone

P = TypeVar("P")
KeepUnapplied = Callable[..., Awaitable[None]]
TakeBackUnapplied = Callable[..., Awaitable[bool]]
B = TypeVar("B", bound=Booking | Order)


class PayableFlow(ABC, Generic[P]):
    """How one kind of payable takes part in the payment flow."""

    type: ClassVar[PayableType]

    @abstractmethod
    async def lock(
        self, session: AsyncSession, ref: PayableRef, *, payment: GatewayPayment, phone_masked: str
    ) -> P | None:
        """The payable, locked until the unit of work ends; None if there is no such payable."""

    @abstractmethod
    def attach(self, payable: P, attempt: PaymentAttempt) -> None:
        """Make a new attempt the payable's latest."""

    @abstractmethod
    async def record(self, session: AsyncSession, payable: P, attempt: PaymentAttempt) -> None:
        """Reflect the attempt's new status on the payable."""


async def pay(
    session: AsyncSession,
    *,
    gateway: GatewayClient,
    settings: Settings,
    flow: PayableFlow[P],
    charge: Charge,
    phone: str,
    request_id: str | None,
) -> tuple[P, PaymentAttempt]:
    """Start an M-Pesa payment for a payable its domain has checked may be paid now."""
    ref = await payment_service.plan_attempt(session, charge=charge)
    await db.commit(session)
    payment = await payment_service.request_payment(
        gateway=gateway,
        settings=settings,
        charge=charge,
        ref=ref,
        phone=phone,
        request_id=request_id,
    )
    phone_masked = mask_phone(phone)
    payable = await flow.lock(session, ref, payment=payment, phone_masked=phone_masked)
    if payable is None:
        raise LookupError(f"{charge.type.value} {charge.id} vanished while it was being paid")
    attempt, is_new = await payment_service.record_attempt(
        session,
        ref=ref,
        payment=payment,
        phone_masked=phone_masked,
        phone_hash=keyed_phone_hash(phone, key=settings.PHONE_HASH_KEY.get_secret_value()),
    )
    if is_new:
        flow.attach(payable, attempt)
        await flow.record(session, payable, attempt)
        await audit.record(
            session,
            action="payment.initiated",
            actor=audit.user_actor(charge.user_id),
            subject=f"payment_attempt:{attempt.id}",
            details={
                "client": str(charge.user_id),
                "payable_type": charge.type,
                "payable_id": charge.id,
                "attempt_number": ref.attempt_number,
                "amount": charge.amount,
                "phone": phone_masked,
                "gateway_payment_id": payment.id,
            },
        )
    return payable, attempt


class BilledFlow(PayableFlow[B]):
    """A payable with a price and its own life (a booking, an order): paid once, by its latest
    attempt; money for one that no longer needs it goes to the payer's wallet (`keep_unapplied`,
    given by the domain: the wallet domain depends on this one, not the reverse). A refunded
    payment undoes what it did: the payable it paid is refunded (`refunded`), money it left in
    the wallet is debited (`take_back_unapplied`)."""

    repository: ClassVar[type[Repository[Any]]]
    # The M-Pesa account reference is `PayableType.account_reference`; the description is fixed.
    description: ClassVar[str]

    def __init__(
        self, *, keep_unapplied: KeepUnapplied, take_back_unapplied: TakeBackUnapplied
    ) -> None:
        self.keep_unapplied = keep_unapplied
        self.take_back_unapplied = take_back_unapplied

    @abstractmethod
    def price(self, payable: B) -> tuple[uuid.UUID, int]:
        """Who pays, and how much."""

    def charge(self, payable: B) -> Charge:
        """What the payer is asked for."""
        payer_id, amount = self.price(payable)
        return Charge(
            type=self.type,
            id=payable.id,
            user_id=payer_id,
            amount=amount,
            account_reference=self.type.account_reference(payable.id),
            description=self.description,
        )

    async def lock(
        self, session: AsyncSession, ref: PayableRef, *, payment: GatewayPayment, phone_masked: str
    ) -> B | None:
        payable: B | None = await self.repository.from_session(session).lock(ref.id)
        return payable

    @abstractmethod
    def awaits_payment(self, payable: B) -> bool:
        """The payable can still take a payment."""

    @abstractmethod
    async def settle(self, session: AsyncSession, payable: B, attempt: PaymentAttempt) -> None:
        """The attempt paid the payable: move it on and tell the people involved."""

    @abstractmethod
    def still_payable(self, payable: B) -> str:
        """The sentence after a failed attempt's message: the payable can be paid again."""

    async def refunded(self, session: AsyncSession, payable: B, attempt: PaymentAttempt) -> None:
        """The payment that paid the payable went back to the payer: the payable is refunded
        (each domain also moves its own status on) and the payer is told."""
        payable.payment_status = PayableStatus.refunded
        payable.payment_reason = AttemptStatus.refunded.value
        await notification_service.notify(
            session,
            user_id=attempt.user_id,
            kind="payment.refunded",
            title="Payment refunded",
            body=f"KES {attempt.amount:,}{payment_service.receipt_note(attempt)} was refunded to "
            "your M-Pesa account.",
            data={f"{self.type.value}_id": str(payable.id), "attempt_id": str(attempt.id)},
        )

    def attach(self, payable: B, attempt: PaymentAttempt) -> None:
        payable.last_attempt_id = attempt.id

    async def record(self, session: AsyncSession, payable: B, attempt: PaymentAttempt) -> None:
        if attempt.status is AttemptStatus.refunded:
            if (
                payable.last_attempt_id == attempt.id
                and payable.payment_status is PayableStatus.paid
            ):
                await self.refunded(session, payable, attempt)
            else:
                await self.take_back_unapplied(session, attempt=attempt)
            return
        if attempt.status is AttemptStatus.paid:
            if self.awaits_payment(payable):
                await self.settle(session, payable, attempt)
            elif (
                payable.last_attempt_id == attempt.id
                and payable.payment_status is PayableStatus.paid
            ):
                payable.receipt_number = payable.receipt_number or attempt.receipt_number
            else:
                await self.keep_unapplied(
                    session, attempt=attempt, payable_state=payable.status.value
                )
            return
        if payable.payment_status is PayableStatus.paid:
            return
        if payable.last_attempt_id in (None, attempt.id):
            payable.last_attempt_id = attempt.id
            payable.payment_status = PayableStatus(attempt.status.value)
            payable.payment_reason = attempt.reason
        if attempt.status.is_final:
            await notification_service.notify(
                session,
                user_id=attempt.user_id,
                kind="payment.failed",
                title="Payment not completed",
                body=f"{attempt.customer_message} {self.still_payable(payable)}",
                data={f"{self.type.value}_id": str(payable.id), "reason": attempt.reason},
            )
