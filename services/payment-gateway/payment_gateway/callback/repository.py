"""SQL of the callback inbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.models import CallbackInbox

# One round trip, one implicit transaction: find the payment by token, store the body unless an
# identical one is already there, and announce the new row to the workers (PostgreSQL delivers
# the notification only once the row is committed). No row back: unknown token; a row without an
# id: a duplicate.
STORE_CALLBACK = """
WITH target AS (
    SELECT payment_id FROM gateway.callback_token WHERE token_hash = $1
), stored AS (
    INSERT INTO gateway.callback_inbox (payment_id, dedupe_key, body, source_ip, received_at)
    SELECT payment_id, payment_id::text || ':' || $2, $3, $4, now()
    FROM target
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
)
SELECT stored.id, CASE WHEN stored.id IS NOT NULL THEN pg_notify($5, stored.id::text) END
FROM target LEFT JOIN stored ON true
"""


@dataclass(frozen=True)
class Stored:
    inbox_id: int | None  # None: an identical callback was stored before


async def store(
    pool: asyncpg.Pool,
    *,
    token_hash: str,
    digest: str,
    body: bytes,
    source_ip: str | None,
    channel: str,
) -> Stored | None:
    """Runs on the raw asyncpg pool: this is the hottest write of the service and one
    statement needs no unit of work (see `payment_gateway.clients.callback_store`)."""
    row = await pool.fetchrow(STORE_CALLBACK, token_hash, digest, body, source_ip, channel)
    if row is None:
        return None
    return Stored(inbox_id=row[0])


async def lock_unprocessed(session: AsyncSession, inbox_id: int) -> CallbackInbox | None:
    """The inbox row if nobody has processed it and nobody is processing it right now."""
    result = await session.execute(
        select(CallbackInbox)
        .where(CallbackInbox.id == inbox_id, CallbackInbox.processed_at.is_(None))
        .with_for_update(skip_locked=True)
    )
    return result.scalar_one_or_none()


async def mark(
    session: AsyncSession,
    *,
    inbox: CallbackInbox,
    outcome: str,
    verdict: str | None,
    note: str | None,
) -> None:
    inbox.outcome = outcome
    inbox.verdict = verdict
    inbox.note = note
    inbox.processed_at = func.now()
    await session.flush()


async def count_attempt(session: AsyncSession, inbox_id: int) -> CallbackInbox | None:
    """Count one more attempt at an unprocessed callback and return it (`attempts` includes
    this one); None when it was processed already."""
    result = await session.execute(
        update(CallbackInbox)
        .where(CallbackInbox.id == inbox_id, CallbackInbox.processed_at.is_(None))
        .values(attempts=CallbackInbox.attempts + 1)
        .returning(CallbackInbox)
    )
    return result.scalar_one_or_none()


async def unprocessed(session: AsyncSession, *, older_than: datetime, limit: int) -> list[int]:
    result = await session.execute(
        select(CallbackInbox.id)
        .where(CallbackInbox.processed_at.is_(None), CallbackInbox.received_at < older_than)
        .order_by(CallbackInbox.received_at)
        .limit(limit)
    )
    return list(result.scalars())


async def for_payment(session: AsyncSession, payment_id: uuid.UUID) -> list[CallbackInbox]:
    result = await session.execute(
        select(CallbackInbox)
        .where(CallbackInbox.payment_id == payment_id)
        .order_by(CallbackInbox.received_at, CallbackInbox.id)
    )
    return list(result.scalars())
