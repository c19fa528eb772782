"""SQL of the outbox and its deliveries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, text, update

from payment_gateway.models import (
    DeliveryAttempt,
    DeliveryStatus,
    EventDelivery,
    OutboxEvent,
)
from shared.repository import RepositoryBase


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    event_id: uuid.UUID
    endpoint_url: str
    attempts: int
    payload: dict[str, Any]
    event_created_at: datetime


# Claims a due delivery for one send: nobody else holds it, and no earlier event of the same
# payment is still on its way to the same subscriber (events go out in sequence order).
_CLAIM = text(
    """
    UPDATE gateway.event_delivery AS d
    SET lease_until = now() + make_interval(secs => :lease_s),
        attempts = d.attempts + 1,
        updated_at = now()
    FROM gateway.outbox_event AS e
    WHERE d.id = :id
      AND e.id = d.event_id
      AND d.status = 'pending'
      AND (d.lease_until IS NULL OR d.lease_until < now())
      AND d.next_attempt_at <= now() + interval '1 second'
      AND NOT EXISTS (
          SELECT 1 FROM gateway.event_delivery AS earlier
          WHERE earlier.payment_id = d.payment_id
            AND earlier.endpoint_url = d.endpoint_url
            AND earlier.sequence < d.sequence
            AND earlier.status = 'pending'
      )
    RETURNING d.id, d.event_id, d.endpoint_url, d.attempts, e.payload, e.created_at
    """
)


class OutboxRepository(RepositoryBase[EventDelivery]):
    """Outbox events and their deliveries, one per subscriber."""

    model = EventDelivery

    async def add_event(
        self, *, event: OutboxEvent, endpoint_urls: list[str], now: datetime
    ) -> list[EventDelivery]:
        self.session.add(event)
        # No ORM relationship orders these inserts, so the event goes first explicitly.
        await self.session.flush()
        deliveries = [
            EventDelivery(
                event_id=event.id,
                payment_id=event.payment_id,
                sequence=event.sequence,
                endpoint_url=url,
                status=DeliveryStatus.pending,
                attempts=0,
                next_attempt_at=now,
            )
            for url in endpoint_urls
        ]
        self.session.add_all(deliveries)
        await self.session.flush()
        return deliveries

    async def claim(self, *, delivery_id: int, lease_s: float) -> ClaimedDelivery | None:
        row = (await self.session.execute(_CLAIM, {"id": delivery_id, "lease_s": lease_s})).first()
        if row is None:
            return None
        return ClaimedDelivery(
            id=row.id,
            event_id=row.event_id,
            endpoint_url=row.endpoint_url,
            attempts=row.attempts,
            payload=row.payload,
            event_created_at=row.created_at,
        )

    async def record_attempt(
        self,
        *,
        delivery_id: int,
        number: int,
        duration_ms: float,
        status_code: int | None,
        error: str | None,
    ) -> None:
        self.session.add(
            DeliveryAttempt(
                delivery_id=delivery_id,
                number=number,
                duration_ms=duration_ms,
                status_code=status_code,
                error=error,
            )
        )
        await self.session.flush()

    async def finish(
        self,
        *,
        delivery_id: int,
        status: str,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "lease_until": None,
            "last_status_code": status_code,
            "last_error": error,
            "updated_at": func.now(),
        }
        if status == DeliveryStatus.delivered:
            values["delivered_at"] = func.now()
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        await self.session.execute(
            update(EventDelivery).where(EventDelivery.id == delivery_id).values(**values)
        )

    async def next_in_stream(self, *, delivery_id: int) -> EventDelivery | None:
        """The earliest pending delivery of the same payment to the same subscriber, now that
        `delivery_id` no longer holds the stream."""
        done = await self.session.get(EventDelivery, delivery_id)
        if done is None:
            return None
        result = await self.session.execute(
            select(EventDelivery)
            .where(
                EventDelivery.payment_id == done.payment_id,
                EventDelivery.endpoint_url == done.endpoint_url,
                EventDelivery.status == DeliveryStatus.pending,
                EventDelivery.sequence > done.sequence,
            )
            .order_by(EventDelivery.sequence)
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def overdue(self, *, older_than: datetime, limit: int) -> list[EventDelivery]:
        """Pending deliveries whose job should have run by now: their job was lost."""
        result = await self.session.execute(
            select(EventDelivery)
            .where(
                EventDelivery.status == DeliveryStatus.pending,
                EventDelivery.next_attempt_at < older_than,
                and_(
                    (EventDelivery.lease_until.is_(None)) | (EventDelivery.lease_until < func.now())
                ),
            )
            .order_by(EventDelivery.next_attempt_at)
            .limit(limit)
        )
        return list(result.scalars())

    async def undelivered_stats(self) -> tuple[int, float]:
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.coalesce(
                        func.extract("epoch", func.now() - func.min(EventDelivery.created_at)), 0
                    ),
                ).where(EventDelivery.status == DeliveryStatus.pending)
            )
        ).one()
        return int(row[0]), float(row[1])
