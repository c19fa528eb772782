"""Payment status changes on Redis pub/sub, published only once the transaction that made them has
committed, so a subscriber never hears about a state it cannot read back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

log = structlog.get_logger(__name__)

_PENDING = "session_api.pubsub.pending"
_in_flight: set[asyncio.Task[None]] = set()


def publish_after_commit(session: AsyncSession, redis: Redis, channel: str, message: str) -> None:
    session.info.setdefault(_PENDING, []).append((redis, channel, message))


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    pending: list[tuple[Redis, str, str]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    # The commit hook is synchronous; the publishes run on the loop right after it. Holding the
    # task keeps it from being garbage-collected mid-flight.
    task = asyncio.get_running_loop().create_task(_publish(pending))
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    session.info.pop(_PENDING, None)


async def _publish(pending: list[tuple[Redis, str, str]]) -> None:
    for redis, channel, message in pending:
        try:
            await redis.publish(channel, message)
        except Exception:
            # Subscribers re-read the database on a timer, so a lost message delays, never loses,
            # an update.
            log.warning("publish_failed", channel=channel, exc_info=True)


async def drain() -> None:
    """Wait for publishes already started (tests and shutdown)."""
    if _in_flight:
        await asyncio.gather(*_in_flight, return_exceptions=True)


@asynccontextmanager
async def subscription(redis: Redis, channel: str) -> AsyncIterator[PubSub]:
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    try:
        yield pubsub
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
