"""SQL of idempotency keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from payment_gateway.models import IdempotencyKey
from shared.repository import RepositoryBase


class IdempotencyKeyRepository(RepositoryBase[IdempotencyKey]):
    model = IdempotencyKey

    async def insert_new(
        self,
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
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def lock_existing(self, *, principal: str, key: str) -> IdempotencyKey | None:
        result = await self.session.execute(
            select(IdempotencyKey)
            .where(IdempotencyKey.principal == principal, IdempotencyKey.key == key)
            .with_for_update()
        )
        return result.scalar_one_or_none()

    async def restart(
        self,
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
        await self.session.flush()

    async def attach_payment(self, *, record_id: int, payment_id: uuid.UUID) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == record_id)
            .values(payment_id=payment_id)
        )

    async def store_response(self, *, record_id: int, status: int, body: str) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == record_id)
            .values(response_status=status, response_body=body, locked_at=None)
        )

    async def delete_expired(self, *, now: datetime) -> int:
        result = await self.session.execute(
            delete(IdempotencyKey)
            .where(IdempotencyKey.expires_at < now)
            .returning(IdempotencyKey.id)
        )
        return len(result.all())
