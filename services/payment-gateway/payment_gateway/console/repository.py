"""SQL of the staff console: facts for a page of payments, every record of one payment's
history, and the statistics, computed in PostgreSQL (never over all rows in Python)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import distinct_on

from payment_gateway.models import (
    CallbackInbox,
    DeliveryAttempt,
    EventDelivery,
    ExceptionStatus,
    OutboxEvent,
    Payment,
    PaymentEvent,
    PaymentPoll,
    ReconciliationException,
    ReconciliationItem,
    ReconciliationRun,
)
from shared.repository import RepositoryBase

NAIROBI = "Africa/Nairobi"


@dataclass(frozen=True)
class Reconciled:
    verdict: str | None
    open_exception: bool


@dataclass(frozen=True)
class DeliveryRow:
    attempt: DeliveryAttempt
    delivery: EventDelivery
    event_type: str
    sequence: int


@dataclass(frozen=True)
class VerdictRow:
    item: ReconciliationItem
    run_requested_by: str


@dataclass(frozen=True)
class StatusRow:
    bucket: datetime
    status: str
    count: int
    amount: int


@dataclass(frozen=True)
class Settling:
    median_s: float | None
    p95_s: float | None
    late_successes: int


# One pass over the window through `payment_console_stats_idx` (created_at, then every column
# read here), so PostgreSQL answers from the index alone: the buckets of the charts.
_BY_BUCKET = text(
    """
    SELECT date_trunc(:granularity, created_at, :zone) AS bucket, status,
           count(*) AS n, coalesce(sum(amount), 0) AS amount
    FROM gateway.payment
    WHERE created_at >= :window_from AND created_at < :window_to
    GROUP BY 1, 2
    """
)

_FAILURE_REASONS = text(
    """
    SELECT coalesce(reason, status) AS reason, count(*) AS n
    FROM gateway.payment
    WHERE created_at >= :window_from AND created_at < :window_to
      AND status IN ('failed', 'cancelled', 'timeout')
    GROUP BY 1
    ORDER BY n DESC, reason
    """
)

# Completed payments only, through the partial index `payment_console_completed_idx`.
_SETTLING = text(
    """
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_s,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95_s,
           count(*) FILTER (WHERE reason = 'late_success') AS late_successes
    FROM (
        SELECT extract(epoch FROM settled_at - pushed_at)::float8 AS seconds, reason
        FROM gateway.payment
        WHERE created_at >= :window_from AND created_at < :window_to
          AND status = 'completed'
    ) AS completed
    """
)


class ConsoleRepository(RepositoryBase[Payment]):
    model = Payment

    async def payments(self, ids: list[uuid.UUID]) -> list[Payment]:
        if not ids:
            return []
        return list(await self.get_all(self.select().where(Payment.id.in_(ids))))

    async def reconciled(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, Reconciled]:
        """Each payment's latest verdict and whether an exception about it is still open."""
        if not ids:
            return {}
        latest = await self.session.execute(
            select(ReconciliationItem.payment_id, ReconciliationItem.verdict)
            .where(ReconciliationItem.payment_id.in_(ids))
            .ext(distinct_on(ReconciliationItem.payment_id))
            .order_by(ReconciliationItem.payment_id, ReconciliationItem.id.desc())
        )
        verdicts = {row.payment_id: row.verdict for row in latest}
        open_rows = await self.session.execute(
            select(ReconciliationException.payment_id).where(
                ReconciliationException.payment_id.in_(ids),
                ReconciliationException.status == ExceptionStatus.open,
            )
        )
        opened = {row.payment_id for row in open_rows}
        return {
            pid: Reconciled(verdict=verdicts.get(pid), open_exception=pid in opened) for pid in ids
        }

    async def events(self, payment_id: uuid.UUID) -> list[PaymentEvent]:
        result = await self.session.scalars(
            select(PaymentEvent)
            .where(PaymentEvent.payment_id == payment_id)
            .order_by(PaymentEvent.at, PaymentEvent.id)
        )
        return list(result)

    async def callbacks(self, payment_id: uuid.UUID) -> list[CallbackInbox]:
        result = await self.session.scalars(
            select(CallbackInbox)
            .where(CallbackInbox.payment_id == payment_id)
            .order_by(CallbackInbox.received_at, CallbackInbox.id)
        )
        return list(result)

    async def polls(self, payment_id: uuid.UUID) -> list[PaymentPoll]:
        result = await self.session.scalars(
            select(PaymentPoll)
            .where(PaymentPoll.payment_id == payment_id)
            .order_by(PaymentPoll.at, PaymentPoll.id)
        )
        return list(result)

    async def deliveries(self, payment_id: uuid.UUID) -> list[DeliveryRow]:
        result = await self.session.execute(
            select(DeliveryAttempt, EventDelivery, OutboxEvent.type, OutboxEvent.sequence)
            .join(EventDelivery, EventDelivery.id == DeliveryAttempt.delivery_id)
            .join(OutboxEvent, OutboxEvent.id == EventDelivery.event_id)
            .where(EventDelivery.payment_id == payment_id)
            .order_by(DeliveryAttempt.attempted_at, DeliveryAttempt.id)
        )
        return [DeliveryRow(*row) for row in result.all()]

    async def verdicts(self, payment_id: uuid.UUID) -> list[VerdictRow]:
        result = await self.session.execute(
            select(ReconciliationItem, ReconciliationRun.requested_by)
            .join(ReconciliationRun, ReconciliationRun.id == ReconciliationItem.run_id)
            .where(ReconciliationItem.payment_id == payment_id)
            .order_by(ReconciliationItem.created_at, ReconciliationItem.id)
        )
        return [VerdictRow(*row) for row in result.all()]

    async def exceptions(self, payment_id: uuid.UUID) -> list[ReconciliationException]:
        result = await self.session.scalars(
            select(ReconciliationException)
            .where(ReconciliationException.payment_id == payment_id)
            .order_by(ReconciliationException.created_at)
        )
        return list(result)

    async def by_bucket(
        self, *, window_from: datetime, window_to: datetime, granularity: str
    ) -> list[StatusRow]:
        result = await self.session.execute(
            _BY_BUCKET,
            _window(window_from, window_to) | {"granularity": granularity, "zone": NAIROBI},
        )
        return [StatusRow(r.bucket, r.status, int(r.n), int(r.amount)) for r in result.all()]

    async def failure_reasons(
        self, *, window_from: datetime, window_to: datetime
    ) -> list[tuple[str, int]]:
        result = await self.session.execute(_FAILURE_REASONS, _window(window_from, window_to))
        return [(r.reason, int(r.n)) for r in result.all()]

    async def settling(self, *, window_from: datetime, window_to: datetime) -> Settling:
        row = (await self.session.execute(_SETTLING, _window(window_from, window_to))).one()
        return Settling(
            median_s=row.median_s, p95_s=row.p95_s, late_successes=int(row.late_successes)
        )

    async def held(self) -> int:
        """Through the partial index `payment_held_idx`."""
        return int(
            await self.session.scalar(
                select(func.count()).select_from(Payment).where(Payment.review_reason.is_not(None))
            )
            or 0
        )

    async def open_exceptions(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(ReconciliationException)
                .where(ReconciliationException.status == ExceptionStatus.open)
            )
            or 0
        )


def _window(window_from: datetime, window_to: datetime) -> dict[str, Any]:
    return {"window_from": window_from, "window_to": window_to}
