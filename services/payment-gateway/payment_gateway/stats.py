"""The gauges that describe the whole system, refreshed from PostgreSQL and Redis."""

from __future__ import annotations

import asyncio

import structlog
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payment_gateway import metrics
from payment_gateway.payment import repository as payment_repository
from payment_gateway.webhook import repository as webhook_repository

log = structlog.get_logger(__name__)


async def refresh_gauges(
    sessionmaker: async_sessionmaker[AsyncSession], redis: Redis, *, queue_name: str
) -> None:
    async with sessionmaker() as session:
        by_status = await payment_repository.count_by_status(session)
        held = await payment_repository.count_held(session)
        undelivered, oldest_age = await webhook_repository.undelivered_stats(session)
    for status, count in by_status.items():
        metrics.PAYMENTS.labels(status).set(count)
    metrics.PAYMENTS_HELD.set(held)
    metrics.UNDELIVERED_EVENTS.set(undelivered)
    metrics.OLDEST_UNDELIVERED_AGE.set(oldest_age)
    metrics.QUEUE_DEPTH.set(await redis.zcard(queue_name))


async def refresh_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    *,
    queue_name: str,
    every_s: float,
) -> None:
    """Runs for the life of an API process; a failed refresh keeps the previous values."""
    while True:
        try:
            await refresh_gauges(sessionmaker, redis, queue_name=queue_name)
        except Exception as e:  # a database or Redis blip must not end the loop
            log.warning("gauge_refresh_failed", error=str(e))
        await asyncio.sleep(every_s)
