"""SQL of idempotency keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.models import IdempotencyKey


async def insert_new(
    session: AsyncSession,
    *,
    principal: str,
    key: str,
    request_hash: str,
    now: datetime,
    expires_at: datetime,
) -> int | None:
    """The new row's id, or None when the key exists (a concurrent insert waits for the other
    transaction to finish first)."""
    statement = (
        insert(IdempotencyKey)
        .values(
            principal=principal,
            key=key,
            request_hash=request_hash,
            locked_at=now,
            created_at=now,
            expires_at=expires_at,
        )
        .on_conflict_do_nothing(constraint="idempotency_key_principal_key")
        .returning(IdempotencyKey.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def lock_existing(
    session: AsyncSession, *, principal: str, key: str
) -> IdempotencyKey | None:
    result = await session.execute(
        select(IdempotencyKey)
        .where(IdempotencyKey.principal == principal, IdempotencyKey.key == key)
        .with_for_update()
    )
    return result.scalar_one_or_none()


async def restart(
    session: AsyncSession,
    *,
    record: IdempotencyKey,
    request_hash: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Reuse an expired key as if it were new."""
    record.request_hash = request_hash
    record.locked_at = now
    record.created_at = now
    record.expires_at = expires_at
    record.payment_id = None
    record.response_status = None
    record.response_body = None
    await session.flush()


async def attach_payment(session: AsyncSession, *, record_id: int, payment_id: uuid.UUID) -> None:
    await session.execute(
        update(IdempotencyKey).where(IdempotencyKey.id == record_id).values(payment_id=payment_id)
    )


async def store_response(session: AsyncSession, *, record_id: int, status: int, body: str) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == record_id)
        .values(response_status=status, response_body=body, locked_at=None)
    )


async def delete_expired(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at < now).returning(IdempotencyKey.id)
    )
    return len(result.all())
