"""SQL of the staff console: payment attempts joined with their client and what they paid for,
filtered, keyset-paginated under any sort, and streamed for the export."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, false, func, or_, select, tuple_
from sqlalchemy.orm import aliased

from session_api.console.schemas import PaymentSort
from session_api.models import Booking, Order, PayableType, PaymentAttempt, User, WalletDeposit
from session_api.repository import Repository

Client = aliased(User, name="client")
Therapist = aliased(User, name="therapist")

# Every column a row needs, named: the export streams these as plain tuples, never as ORM
# objects, so memory stays flat however many rows there are.
_COLUMNS = (
    PaymentAttempt.id,
    PaymentAttempt.created_at,
    PaymentAttempt.amount,
    PaymentAttempt.status,
    PaymentAttempt.reason,
    PaymentAttempt.result_code,
    PaymentAttempt.result_desc,
    PaymentAttempt.receipt_number,
    PaymentAttempt.phone_masked,
    PaymentAttempt.checkout_request_id,
    PaymentAttempt.gateway_payment_id,
    PaymentAttempt.environment,
    PaymentAttempt.payable_type,
    PaymentAttempt.payable_id,
    PaymentAttempt.attempt_number,
    Client.id.label("client_id"),
    Client.full_name.label("client_name"),
    Client.email.label("client_email"),
    Therapist.full_name.label("therapist_name"),
    Booking.scheduled_at.label("session_at"),
    Booking.status.label("booking_status"),
    Order.status.label("order_status"),
    WalletDeposit.status.label("deposit_status"),
)


@dataclass(frozen=True)
class AttemptView:
    """One attempt with its client and payable, as the console shows it."""

    id: uuid.UUID
    created_at: datetime
    amount: int
    status: str
    reason: str | None
    result_code: str | None
    result_desc: str | None
    receipt_number: str | None
    phone_masked: str
    checkout_request_id: str | None
    gateway_payment_id: str
    environment: str | None
    payable_type: PayableType
    payable_id: uuid.UUID
    attempt_number: int
    client_id: uuid.UUID
    client_name: str
    client_email: str
    therapist_name: str | None
    session_at: datetime | None
    booking_status: str | None
    order_status: str | None
    deposit_status: str | None


@dataclass(frozen=True)
class AttemptFilters:
    q: str | None = None
    statuses: Sequence[str] = ()
    payable_types: Sequence[str] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    environment: str | None = None


@dataclass(frozen=True)
class QueryTerms:
    """What a free-text `q` may be, worked out by the service: each is matched where it fits."""

    text: str
    receipt: str | None = None
    phone_suffix: str | None = None  # the digits a masked phone ends with
    masked_phone: str | None = None  # a whole phone, masked as stored
    # The gateway's payments for a whole phone: exact, where the masked form is only its last
    # four digits. None when the gateway could not be asked (the masked form is used instead).
    phone_payments: tuple[str, ...] | None = None
    uuid: uuid.UUID | None = None
    reference: tuple[PayableType, str] | None = None  # kind and id-hex prefix


def _base() -> Select[*tuple[Any, ...]]:
    return (
        select(*_COLUMNS)
        .join(Client, Client.id == PaymentAttempt.user_id)
        .outerjoin(
            Booking,
            and_(
                PaymentAttempt.payable_type == PayableType.booking,
                Booking.id == PaymentAttempt.payable_id,
            ),
        )
        .outerjoin(Therapist, Therapist.id == Booking.therapist_id)
        .outerjoin(
            Order,
            and_(
                PaymentAttempt.payable_type == PayableType.order,
                Order.id == PaymentAttempt.payable_id,
            ),
        )
        .outerjoin(
            WalletDeposit,
            and_(
                PaymentAttempt.payable_type == PayableType.deposit,
                WalletDeposit.id == PaymentAttempt.payable_id,
            ),
        )
    )


def _matches(terms: QueryTerms) -> ColumnElement[bool]:
    text = terms.text
    options: list[ColumnElement[bool]] = [
        Client.full_name.icontains(text, autoescape=True),
        Client.email.icontains(text, autoescape=True),
        Therapist.full_name.icontains(text, autoescape=True),
        PaymentAttempt.checkout_request_id == text,
        PaymentAttempt.gateway_payment_id == text,
    ]
    if terms.receipt:
        options.append(PaymentAttempt.receipt_number == terms.receipt)
    if terms.phone_suffix:
        options.append(PaymentAttempt.phone_masked.endswith(terms.phone_suffix, autoescape=True))
    if terms.phone_payments is not None:
        options.append(PaymentAttempt.gateway_payment_id.in_(terms.phone_payments))
    elif terms.masked_phone:
        options.append(PaymentAttempt.phone_masked == terms.masked_phone)
    if terms.uuid:
        options.append(PaymentAttempt.payable_id == terms.uuid)
        options.append(PaymentAttempt.id == terms.uuid)
    if terms.reference:
        kind, prefix = terms.reference
        options.append(
            and_(
                PaymentAttempt.payable_type == kind,
                func.replace(cast(PaymentAttempt.payable_id, String), "-", "").startswith(
                    prefix, autoescape=True
                ),
            )
        )
    return or_(false(), *options)


def _filtered(filters: AttemptFilters, terms: QueryTerms | None) -> Select[*tuple[Any, ...]]:
    statement = _base()
    if terms is not None:
        statement = statement.where(_matches(terms))
    if filters.statuses:
        statement = statement.where(PaymentAttempt.status.in_(filters.statuses))
    if filters.payable_types:
        statement = statement.where(PaymentAttempt.payable_type.in_(filters.payable_types))
    if filters.created_from is not None:
        statement = statement.where(PaymentAttempt.created_at >= filters.created_from)
    if filters.created_to is not None:
        statement = statement.where(PaymentAttempt.created_at < filters.created_to)
    if filters.amount_min is not None:
        statement = statement.where(PaymentAttempt.amount >= filters.amount_min)
    if filters.amount_max is not None:
        statement = statement.where(PaymentAttempt.amount <= filters.amount_max)
    if filters.environment is not None:
        statement = statement.where(PaymentAttempt.environment == filters.environment)
    return statement


def sort_key(sort: PaymentSort) -> tuple[Any, ...]:
    """The columns a sort orders by, ending in (created_at, id) so ties are stable."""
    if sort in (PaymentSort.amount_desc, PaymentSort.amount_asc):
        return (PaymentAttempt.amount, PaymentAttempt.created_at, PaymentAttempt.id)
    return (PaymentAttempt.created_at, PaymentAttempt.id)


def _descending(sort: PaymentSort) -> bool:
    return sort in (PaymentSort.newest, PaymentSort.amount_desc)


def _ordered(statement: Select[*tuple[Any, ...]], sort: PaymentSort) -> Select[*tuple[Any, ...]]:
    columns = sort_key(sort)
    if _descending(sort):
        return statement.order_by(*(c.desc() for c in columns))
    return statement.order_by(*(c.asc() for c in columns))


class ConsoleRepository(Repository[PaymentAttempt]):
    model = PaymentAttempt

    async def page(
        self,
        *,
        filters: AttemptFilters,
        terms: QueryTerms | None,
        sort: PaymentSort,
        after: tuple[Any, ...] | None,
        limit: int,
    ) -> list[AttemptView]:
        statement = _filtered(filters, terms)
        if after is not None:
            key = tuple_(*sort_key(sort))
            statement = statement.where(
                key < tuple_(*after) if _descending(sort) else key > tuple_(*after)
            )
        result = await self.session.execute(_ordered(statement, sort).limit(limit))
        return [AttemptView(*row) for row in result.all()]

    async def stream(
        self, *, filters: AttemptFilters, terms: QueryTerms | None, sort: PaymentSort, batch: int
    ) -> AsyncIterator[list[AttemptView]]:
        """Every matching row, `batch` at a time, through a server-side cursor: the whole result
        is never in memory."""
        result = await self.session.stream(
            _ordered(_filtered(filters, terms), sort).execution_options(yield_per=batch)
        )
        async for partition in result.partitions(batch):
            yield [AttemptView(*row) for row in partition]

    async def one(self, attempt_id: uuid.UUID) -> AttemptView | None:
        result = await self.session.execute(_base().where(PaymentAttempt.id == attempt_id))
        row = result.one_or_none()
        return AttemptView(*row) if row is not None else None

    async def names(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The current names of these accounts (an erased one reads "Erased user")."""
        if not user_ids:
            return {}
        result = await self.session.execute(
            select(User.id, User.full_name).where(User.id.in_(user_ids))
        )
        return {row.id: row.full_name for row in result.all()}

    async def of_payable(
        self, payable_type: PayableType, payable_id: uuid.UUID
    ) -> list[AttemptView]:
        result = await self.session.execute(
            _base()
            .where(
                PaymentAttempt.payable_type == payable_type,
                PaymentAttempt.payable_id == payable_id,
            )
            .order_by(PaymentAttempt.attempt_number)
        )
        return [AttemptView(*row) for row in result.all()]
