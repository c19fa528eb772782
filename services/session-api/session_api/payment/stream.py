"""A payment attempt's live status: published after each change commits, streamed to the payer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from session_api import pubsub
from session_api.config import Settings
from session_api.models import PaymentAttempt
from session_api.payment.repository import PaymentAttemptRepository
from session_api.payment.schemas import AttemptOut


def channel(attempt_id: uuid.UUID) -> str:
    return f"session_api:payment_attempt:{attempt_id}"


def publish(session: AsyncSession, redis: Redis, attempt: PaymentAttempt) -> None:
    """Tell stream subscribers about the attempt's new state once this transaction commits."""
    message = AttemptOut.model_validate(attempt).model_dump_json()
    pubsub.publish_after_commit(session, redis, channel(attempt.id), message)


async def _read(
    sessionmaker: async_sessionmaker[AsyncSession], attempt_id: uuid.UUID
) -> AttemptOut | None:
    async with sessionmaker() as session:
        attempt = await PaymentAttemptRepository.from_session(session).get_by_id(attempt_id)
        return AttemptOut.model_validate(attempt) if attempt is not None else None


async def updates(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    settings: Settings,
    attempt_id: uuid.UUID,
) -> AsyncIterator[AttemptOut]:
    """The attempt's current state, then each change, ending after a final status.

    Subscribes before reading the current state, so nothing published in between is missed; the
    version number drops repeats and out-of-order messages. The database is re-read on a timer
    in case a message was lost while Redis reconnected.
    """
    loop = asyncio.get_running_loop()
    async with pubsub.subscription(redis, channel(attempt_id)) as subscription:
        current = await _read(sessionmaker, attempt_id)
        if current is None:
            return
        yield current
        last_version = current.version
        deadline = loop.time() + settings.SSE_MAX_DURATION_S
        next_recheck = loop.time() + settings.SSE_RECHECK_S
        while not current.status.is_final and loop.time() < deadline:
            wait = max(0.0, min(deadline, next_recheck) - loop.time())
            message = await subscription.get_message(ignore_subscribe_messages=True, timeout=wait)
            candidate: AttemptOut | None = None
            if message is not None:
                candidate = AttemptOut.model_validate_json(message["data"])
            elif loop.time() >= next_recheck:
                next_recheck = loop.time() + settings.SSE_RECHECK_S
                candidate = await _read(sessionmaker, attempt_id)
            if candidate is not None and candidate.version > last_version:
                current, last_version = candidate, candidate.version
                yield current
