"""The gauges that describe the whole system, refreshed from PostgreSQL and Redis."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payment_gateway import metrics
from payment_gateway.audit import service as audit_service
from payment_gateway.outbox.repository import OutboxRepository
from payment_gateway.payment.repository import PaymentRepository
from shared import background


async def refresh_gauges(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, *, queue_name: str
) -> None:
    async with sessionmaker() as session:
        payments = PaymentRepository.from_session(session)
        by_status = await payments.count_by_status()
        held = await payments.count_held()
        undelivered, oldest_age = await OutboxRepository.from_session(session).undelivered_stats()
        unchained, unsigned_age = await audit_service.health(session)
    for status, count in by_status.items():
        metrics.PAYMENTS.labels(status).set(count)
    metrics.PAYMENTS_HELD.set(held)
    metrics.UNDELIVERED_EVENTS.set(undelivered)
    metrics.OLDEST_UNDELIVERED_AGE.set(oldest_age)
    metrics.QUEUE_DEPTH.set(await redis.zcard(queue_name))
    metrics.AUDIT_UNCHAINED.set(unchained)
    metrics.AUDIT_UNSIGNED_AGE.set(unsigned_age)


async def refresh_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    *,
    queue_name: str,
    every_s: float,
) -> None:
    """Runs for the life of an API process; a failed refresh keeps the previous values."""
    await background.run_every(
        lambda: refresh_gauges(sessionmaker, redis, queue_name=queue_name),
        every_s=every_s,
        what="gauge_refresh",
    )
