"""SQL of the staff console: facts for a page of payments, every record of one payment's
history, and the statistics, computed in PostgreSQL (never over all rows in Python)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from shared.db import utcnow
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
class ReasonRow:
    status: str
    reason: str | None
    count: int


@dataclass(frozen=True)
class Window:
    """`[start, end)`, split into the whole UTC hours the rollups answer for
    (`[inner_start, inner_end)`) and the edges read from the payments themselves."""

    start: datetime
    end: datetime
    inner_start: datetime
    inner_end: datetime

    @classmethod
    def of(cls, start: datetime, end: datetime) -> Window:
        first = _hour(start) if start == _hour(start) else _hour(start) + timedelta(hours=1)
        last = _hour(end)
        if first >= last:  # no whole hour inside: everything is an edge
            first = last = end
        return cls(start=start, end=end, inner_start=first, inner_end=last)

    def params(self) -> dict[str, Any]:
        return {
            "window_from": self.start,
            "window_to": self.end,
            "inner_from": self.inner_start,
            "inner_to": self.inner_end,
        }


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


ROLLUP_LOCK = 0x636F6E736F6C65  # "console": one refresher at a time; the others read as is

# The rollups' whole hours plus the edges' payments, one row each: bucketed by Nairobi day or
# hour (the rollup of an hour that starts on a UTC hour starts on a Nairobi hour too), or by
# status and reason over the whole window.
_COUNTED = """
    WITH counted AS (
        SELECT hour AS at, status, reason, count, amount
        FROM gateway.payment_stats_hour
        WHERE hour >= :inner_from AND hour < :inner_to
        UNION ALL
        SELECT p.created_at, p.status, coalesce(p.reason, ''), 1, p.amount
        FROM gateway.payment AS p
        WHERE (p.created_at >= :window_from AND p.created_at < :inner_from)
           OR (p.created_at >= :inner_to AND p.created_at < :window_to)
    )
"""
# Constant text joined to constant text: no input reaches the SQL but through parameters.
_BY_BUCKET = text(
    _COUNTED  # noqa: S608
    + """
    SELECT date_trunc(:granularity, at, :zone) AS bucket, status,
           sum(count) AS n, sum(amount) AS amount
    FROM counted
    GROUP BY 1, 2
    """
)
_BY_REASON = text(
    _COUNTED  # noqa: S608
    + """
    SELECT status, reason, sum(count) AS n FROM counted GROUP BY 1, 2
    """
)

_SETTLING = text(
    """
    WITH timed AS (
        SELECT seconds, count
        FROM gateway.payment_settle_hour
        WHERE hour >= :inner_from AND hour < :inner_to
        UNION ALL
        SELECT greatest(0, floor(extract(epoch FROM p.settled_at - p.pushed_at)))::int, 1
        FROM gateway.payment AS p
        WHERE p.status = 'completed' AND p.pushed_at IS NOT NULL AND p.settled_at IS NOT NULL
          AND ((p.created_at >= :window_from AND p.created_at < :inner_from)
               OR (p.created_at >= :inner_to AND p.created_at < :window_to))
    )
    SELECT seconds, sum(count) AS n FROM timed GROUP BY seconds ORDER BY seconds
    """
)

_REFRESH_STATE = text(
    "SELECT refreshed_through FROM gateway.payment_stats_state WHERE id = 1 FOR UPDATE"
)
_DIRTY_HOURS = text(
    """
    SELECT DISTINCT date_trunc('hour', created_at, 'UTC') AS hour
    FROM gateway.payment
    WHERE updated_at >= :since
    """
)
_ALL_HOURS = text(
    "SELECT DISTINCT date_trunc('hour', created_at, 'UTC') AS hour FROM gateway.payment"
)
_CLEAR = (
    text("DELETE FROM gateway.payment_stats_hour WHERE hour = ANY(:hours)"),
    text("DELETE FROM gateway.payment_settle_hour WHERE hour = ANY(:hours)"),
)
_FILL = (
    text(
        """
        INSERT INTO gateway.payment_stats_hour (hour, status, reason, count, amount)
        SELECT h.hour, p.status, coalesce(p.reason, ''), count(*), sum(p.amount)
        FROM unnest(CAST(:hours AS timestamptz[])) AS h(hour)
        JOIN gateway.payment AS p
          ON p.created_at >= h.hour AND p.created_at < h.hour + interval '1 hour'
        GROUP BY 1, 2, 3
        """
    ),
    text(
        """
        INSERT INTO gateway.payment_settle_hour (hour, seconds, count)
        SELECT h.hour, greatest(0, floor(extract(epoch FROM p.settled_at - p.pushed_at)))::int,
               count(*)
        FROM unnest(CAST(:hours AS timestamptz[])) AS h(hour)
        JOIN gateway.payment AS p
          ON p.created_at >= h.hour AND p.created_at < h.hour + interval '1 hour'
        WHERE p.status = 'completed' AND p.pushed_at IS NOT NULL AND p.settled_at IS NOT NULL
        GROUP BY 1, 2
        """
    ),
)
_MARK = text(
    """
    INSERT INTO gateway.payment_stats_state (id, refreshed_through) VALUES (1, :mark)
    ON CONFLICT (id) DO UPDATE SET refreshed_through = EXCLUDED.refreshed_through
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

    async def refresh_rollups(self, *, overlap: timedelta) -> int | None:
        """Recount every UTC hour with a payment changed since the last refresh (every hour, the
        first time); the number of hours recounted, or None if another refresh holds the lock.

        A payment's transaction may commit a little after the `updated_at` it wrote, so each
        refresh looks `overlap` further back than the last one ended."""
        locked = await self.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ROLLUP_LOCK}
        )
        if not locked:
            return None
        started = utcnow()
        since = await self.session.scalar(_REFRESH_STATE)
        if since is None:
            hours = list(await self.session.scalars(_ALL_HOURS))
        else:
            hours = list(await self.session.scalars(_DIRTY_HOURS, {"since": since}))
        if hours:
            for statement in (*_CLEAR, *_FILL):
                await self.session.execute(statement, {"hours": hours})
        await self.session.execute(_MARK, {"mark": started - overlap})
        return len(hours)

    async def by_bucket(self, *, window: Window, granularity: str) -> list[StatusRow]:
        result = await self.session.execute(
            _BY_BUCKET, window.params() | {"granularity": granularity, "zone": NAIROBI}
        )
        return [StatusRow(r.bucket, r.status, int(r.n), int(r.amount)) for r in result.all()]

    async def by_reason(self, *, window: Window) -> list[ReasonRow]:
        result = await self.session.execute(_BY_REASON, window.params())
        return [ReasonRow(r.status, r.reason or None, int(r.n)) for r in result.all()]

    async def settling_histogram(self, *, window: Window) -> list[tuple[int, int]]:
        """(whole seconds from prompt to settling, completed payments) in ascending seconds."""
        result = await self.session.execute(_SETTLING, window.params())
        return [(int(r.seconds), int(r.n)) for r in result.all()]

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
