"""SQL of payments, their timeline and their callback tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.models import (
    OPEN_STATUSES,
    CallbackToken,
    Payment,
    PaymentEvent,
    PaymentStatus,
)


@dataclass(frozen=True)
class PaymentFilters:
    statuses: list[str]
    phone: str | None
    checkout_request_id: str | None
    receipt_number: str | None
    created_from: datetime | None
    created_to: datetime | None


async def add(session: AsyncSession, payment: Payment) -> None:
    session.add(payment)
    await session.flush()


async def add_token(session: AsyncSession, token: CallbackToken) -> None:
    session.add(token)
    await session.flush()


async def add_event(session: AsyncSession, event: PaymentEvent) -> None:
    session.add(event)


async def get(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    return await session.get(Payment, payment_id)


async def lock(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    """The payment, row-locked until the transaction ends: every status change goes through
    here, so concurrent callbacks, polls and refreshes apply one after the other."""
    result = await session.execute(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def payment_id_for_token(session: AsyncSession, token_hash: str) -> uuid.UUID | None:
    result = await session.execute(
        select(CallbackToken.payment_id).where(CallbackToken.token_hash == token_hash)
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True)
class OtherOwners:
    receipt: uuid.UUID | None  # another payment already carrying the receipt
    push: uuid.UUID | None  # another payment whose push has the CheckoutRequestID


async def other_owners(
    session: AsyncSession,
    *,
    payment_id: uuid.UUID,
    receipt_number: str | None,
    checkout_request_id: str,
) -> OtherOwners:
    """Which other payments already carry this receipt or this CheckoutRequestID (both are
    unique), in one round trip."""
    claims = [Payment.checkout_request_id == checkout_request_id]
    if receipt_number is not None:
        claims.append(Payment.receipt_number == receipt_number)
    result = await session.execute(
        select(Payment.id, Payment.receipt_number, Payment.checkout_request_id)
        .where(or_(*claims), Payment.id != payment_id)
        .limit(2)
    )
    rows = result.all()
    return OtherOwners(
        receipt=next(
            (r.id for r in rows if receipt_number and r.receipt_number == receipt_number), None
        ),
        push=next((r.id for r in rows if r.checkout_request_id == checkout_request_id), None),
    )


async def open_for_phone(session: AsyncSession, phone: str) -> Payment | None:
    result = await session.execute(
        select(Payment)
        .where(
            Payment.phone == phone,
            Payment.status.in_(OPEN_STATUSES),
            Payment.review_reason.is_(None),
        )
        .limit(1)
    )
    return result.scalar_one_or_none()


async def last_push(
    session: AsyncSession, *, phone: str, amount: int, since: datetime
) -> Payment | None:
    result = await session.execute(
        select(Payment)
        .where(Payment.phone == phone, Payment.amount == amount, Payment.pushed_at >= since)
        .order_by(Payment.pushed_at.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def events(session: AsyncSession, payment_id: uuid.UUID) -> list[PaymentEvent]:
    result = await session.execute(
        select(PaymentEvent)
        .where(PaymentEvent.payment_id == payment_id)
        .order_by(PaymentEvent.at, PaymentEvent.id)
    )
    return list(result.scalars())


async def search(
    session: AsyncSession,
    *,
    filters: PaymentFilters,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Payment]:
    """Newest first, keyset-paginated on (created_at, id)."""
    statement: Select[Payment] = select(Payment)
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
    if after is not None:
        statement = statement.where(tuple_(Payment.created_at, Payment.id) < tuple_(*after))
    statement = statement.order_by(Payment.created_at.desc(), Payment.id.desc()).limit(limit)
    return list((await session.execute(statement)).scalars())


@dataclass(frozen=True)
class Overdue:
    id: uuid.UUID
    status: str
    push_attempts: int
    poll_step: int


async def overdue(session: AsyncSession, *, older_than: datetime, limit: int) -> list[Overdue]:
    """Open payments whose next push or query should have happened by now: their job was lost."""
    result = await session.execute(
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


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(select(Payment.status, func.count()).group_by(Payment.status))
    counts = {status.value: 0 for status in PaymentStatus}
    counts.update({status: count for status, count in result.all()})
    return counts


async def count_held(session: AsyncSession) -> int:
    result = await session.execute(
        select(func.count()).select_from(Payment).where(Payment.review_reason.is_not(None))
    )
    return int(result.scalar_one())
