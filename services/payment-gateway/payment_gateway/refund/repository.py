"""SQL of refunds."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from payment_gateway.models import Refund, RefundState
from shared.repository import RepositoryBase


class RefundRepository(RepositoryBase[Refund]):
    model = Refund

    async def for_payment(self, payment_id: uuid.UUID) -> Refund | None:
        return await self.get_one_or_none(self.select().where(Refund.payment_id == payment_id))

    async def lock(self, refund_id: uuid.UUID) -> Refund | None:
        return await self.get_one_or_none(
            self.select()
            .where(Refund.id == refund_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def lock_by_token(self, token_hash: str) -> Refund | None:
        return await self.get_one_or_none(
            self.select()
            .where(Refund.token_hash == token_hash)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def exists_for_token(self, token_hash: str) -> bool:
        result = await self.session.execute(
            select(Refund.id).where(Refund.token_hash == token_hash).limit(1)
        )
        return result.scalar_one_or_none() is not None

    async def overdue(self, *, older_than: datetime, limit: int) -> list[tuple[uuid.UUID, int]]:
        """Open refunds that should have moved on by now: a job lost with a worker or Redis, or
        a result that never came."""
        result = await self.session.execute(
            select(Refund.id, Refund.attempts)
            .where(
                Refund.state.in_((RefundState.requested, RefundState.asked)),
                Refund.next_attempt_at < older_than,
            )
            .order_by(Refund.next_attempt_at)
            .limit(limit)
        )
        return [(row.id, row.attempts) for row in result.all()]
