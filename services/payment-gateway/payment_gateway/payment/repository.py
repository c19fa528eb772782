"""SQL of payments, their timeline and their callback tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select, tuple_

from payment_gateway.models import (
    OPEN_STATUSES,
    CallbackToken,
    Payment,
    PaymentEvent,
    PaymentPoll,
    PaymentStatus,
)
from shared.repository import RepositoryBase


@dataclass(frozen=True)
class PaymentFilters:
    statuses: list[str]
    phone: str | None
    checkout_request_id: str | None
    receipt_number: str | None
    created_from: datetime | None
    created_to: datetime | None
    environment: str | None = None


@dataclass(frozen=True)
class OtherOwners:
    receipt: uuid.UUID | None  # another payment already carrying the receipt
    push: uuid.UUID | None  # another payment whose push has the CheckoutRequestID


@dataclass(frozen=True)
class Overdue:
    id: uuid.UUID
    status: str
    push_attempts: int
    poll_step: int


class PaymentRepository(RepositoryBase[Payment]):
    model = Payment

    async def get(self, payment_id: uuid.UUID) -> Payment | None:
        return await self.session.get(Payment, payment_id)

    async def lock(self, payment_id: uuid.UUID) -> Payment | None:
        """The payment, row-locked until the transaction ends: every status change goes through
        here, so concurrent callbacks, polls and refreshes apply one after the other."""
        return await self.get_one_or_none(
            self.select()
            .where(Payment.id == payment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def other_owners(
        self, *, payment_id: uuid.UUID, receipt_number: str | None, checkout_request_id: str
    ) -> OtherOwners:
        """Which other payments already carry this receipt or this CheckoutRequestID (both are
        unique), in one round trip."""
        claims = [Payment.checkout_request_id == checkout_request_id]
        if receipt_number is not None:
            claims.append(Payment.receipt_number == receipt_number)
        result = await self.session.execute(
            select(Payment.id, Payment.receipt_number, Payment.checkout_request_id)
            .where(or_(*claims), Payment.id != payment_id)
            .limit(2)
        )
        rows = result.all()
        return OtherOwners(
            receipt=next(
                (r.id for r in rows if receipt_number and r.receipt_number == receipt_number),
                None,
            ),
            push=next((r.id for r in rows if r.checkout_request_id == checkout_request_id), None),
        )

    async def open_for_phone(self, phone: str) -> Payment | None:
        return await self.get_one_or_none(
            self.select()
            .where(
                Payment.phone == phone,
                Payment.status.in_(OPEN_STATUSES),
                Payment.review_reason.is_(None),
            )
            .limit(1)
        )

    async def last_push(self, *, phone: str, amount: int, since: datetime) -> Payment | None:
        return await self.get_one_or_none(
            self.select()
            .where(Payment.phone == phone, Payment.amount == amount, Payment.pushed_at >= since)
            .order_by(Payment.pushed_at.desc())
            .limit(1)
        )

    async def search(
        self, *, filters: PaymentFilters, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[Payment]:
        """Newest first, keyset-paginated on (created_at, id)."""
        statement: Select[Payment] = self.select()
        if filters.statuses:
            statement = statement.where(Payment.status.in_(filters.statuses))
        if filters.phone:
            statement = statement.where(Payment.phone == filters.phone)
        if filters.checkout_request_id:
            statement = statement.where(Payment.checkout_request_id == filters.checkout_request_id)
        if filters.receipt_number:
            statement = statement.where(Payment.receipt_number == filters.receipt_number)
        if filters.created_from:
            statement = statement.where(Payment.created_at >= filters.created_from)
        if filters.created_to:
            statement = statement.where(Payment.created_at < filters.created_to)
        if filters.environment:
            statement = statement.where(Payment.environment == filters.environment)
        if after is not None:
            statement = statement.where(tuple_(Payment.created_at, Payment.id) < tuple_(*after))
        statement = statement.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit)
        return list(await self.get_all(statement))

    async def overdue(self, *, older_than: datetime, limit: int) -> list[Overdue]:
        """Open payments whose next push or query should have happened by now: their job was
        lost."""
        result = await self.session.execute(
            select(Payment.id, Payment.status, Payment.push_attempts, Payment.poll_step)
            .where(
                Payment.status.in_(OPEN_STATUSES),
                Payment.review_reason.is_(None),
                Payment.next_check_at < older_than,
            )
            .order_by(Payment.next_check_at)
            .limit(limit)
        )
        return [Overdue(*row) for row in result.all()]

    async def count_by_status(self) -> dict[str, int]:
        result = await self.session.execute(
            select(Payment.status, func.count()).group_by(Payment.status)
        )
        counts = {status.value: 0 for status in PaymentStatus}
        counts.update({status: count for status, count in result.all()})
        return counts

    async def count_held(self) -> int:
        result = await self.session.execute(
            select(func.count()).select_from(Payment).where(Payment.review_reason.is_not(None))
        )
        return int(result.scalar_one())


class PaymentEventRepository(RepositoryBase[PaymentEvent]):
    """The payment's timeline."""

    model = PaymentEvent

    async def timeline(self, payment_id: uuid.UUID) -> list[PaymentEvent]:
        return list(
            await self.get_all(
                self.select()
                .where(PaymentEvent.payment_id == payment_id)
                .order_by(PaymentEvent.at, PaymentEvent.id)
            )
        )


class CallbackTokenRepository(RepositoryBase[CallbackToken]):
    """The secret in each push's CallBackURL, kept as a hash."""

    model = CallbackToken


class PaymentPollRepository(RepositoryBase[PaymentPoll]):
    """Every STK Query made about a payment, whatever Daraja answered."""

    model = PaymentPoll
