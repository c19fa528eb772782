"""SQL of the callback inbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.models import CallbackInbox

# One round trip: find the payment by token and store the body unless an identical one is
# already there. No row back: unknown token; a row without an id: a duplicate.
_STORE = text(
    """
    WITH target AS (
        SELECT payment_id FROM gateway.callback_token WHERE token_hash = :token_hash
    ), stored AS (
        INSERT INTO gateway.callback_inbox (payment_id, dedupe_key, body, source_ip, received_at)
        SELECT payment_id, payment_id::text || ':' || :digest, :body, :source_ip, now()
        FROM target
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id, received_at
    )
    SELECT target.payment_id, stored.id, stored.received_at
    FROM target LEFT JOIN stored ON true
    """
)


@dataclass(frozen=True)
class Stored:
    payment_id: uuid.UUID
    inbox_id: int | None
    received_at: datetime | None


async def store(
    session: AsyncSession, *, token_hash: str, digest: str, body: bytes, source_ip: str | None
) -> Stored | None:
    row = (
        await session.execute(
            _STORE,
            {"token_hash": token_hash, "digest": digest, "body": body, "source_ip": source_ip},
        )
    ).first()
    if row is None:
        return None
    return Stored(payment_id=row[0], inbox_id=row[1], received_at=row[2])


async def lock_unprocessed(session: AsyncSession, inbox_id: int) -> CallbackInbox | None:
    """The inbox row if nobody has processed it and nobody is processing it right now."""
    result = await session.execute(
        select(CallbackInbox)
        .where(CallbackInbox.id == inbox_id, CallbackInbox.processed_at.is_(None))
        .with_for_update(skip_locked=True)
    )
    return result.scalar_one_or_none()


async def mark(
    session: AsyncSession, *, inbox: CallbackInbox, outcome: str, note: str | None
) -> None:
    inbox.outcome = outcome
    inbox.note = note
    inbox.processed_at = func.now()
    inbox.attempts += 1
    await session.flush()


async def count_attempt(session: AsyncSession, inbox_id: int) -> None:
    await session.execute(
        update(CallbackInbox)
        .where(CallbackInbox.id == inbox_id)
        .values(attempts=CallbackInbox.attempts + 1)
    )


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
