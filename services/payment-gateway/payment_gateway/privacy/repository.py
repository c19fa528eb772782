"""SQL of erasure: the payments, their stored callbacks, their timeline and their M-Pesa records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select

from payment_gateway.models import (
    CallbackInbox,
    IdempotencyKey,
    MpesaRecord,
    OutboxEvent,
    Payment,
    PaymentEvent,
    ResultInbox,
    StatusQuery,
)
from shared.repository import RepositoryBase


class ErasureRepository(RepositoryBase[Payment]):
    model = Payment

    async def lock_payments(self, ids: Sequence[uuid.UUID]) -> Sequence[Payment]:
        """The payments, row-locked so no callback or poll changes them meanwhile."""
        return await self.get_all(
            select(Payment).where(Payment.id.in_(ids)).order_by(Payment.id).with_for_update()
        )

    async def callbacks(self, ids: Sequence[uuid.UUID]) -> Sequence[CallbackInbox]:
        return (
            (
                await self.session.execute(
                    select(CallbackInbox).where(CallbackInbox.payment_id.in_(ids))
                )
            )
            .scalars()
            .all()
        )

    async def events(self, ids: Sequence[uuid.UUID]) -> Sequence[PaymentEvent]:
        return (
            (
                await self.session.execute(
                    select(PaymentEvent).where(PaymentEvent.payment_id.in_(ids))
                )
            )
            .scalars()
            .all()
        )

    async def outbox_events(self, ids: Sequence[uuid.UUID]) -> Sequence[OutboxEvent]:
        statement = select(OutboxEvent).where(OutboxEvent.payment_id.in_(ids))
        return (await self.session.execute(statement)).scalars().all()

    async def idempotency_keys(self, ids: Sequence[uuid.UUID]) -> Sequence[IdempotencyKey]:
        statement = select(IdempotencyKey).where(IdempotencyKey.payment_id.in_(ids))
        return (await self.session.execute(statement)).scalars().all()

    async def records(
        self, *, receipts: Sequence[str], checkout_ids: Sequence[str]
    ) -> Sequence[MpesaRecord]:
        statement = select(MpesaRecord).where(
            MpesaRecord.receipt.in_(receipts) | MpesaRecord.checkout_request_id.in_(checkout_ids)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def results(
        self, ids: Sequence[uuid.UUID], *, receipts: Sequence[str]
    ) -> Sequence[ResultInbox]:
        """Transaction Status results about these payments (by their queries' URL tokens), and C2B
        confirmations carrying one of their receipts."""
        asked = select(StatusQuery.token_hash).where(StatusQuery.payment_id.in_(ids))
        clauses: list[ColumnElement[bool]] = [ResultInbox.token_hash.in_(asked)]
        body = func.convert_from(ResultInbox.body, "UTF8")
        clauses += [
            (ResultInbox.kind == "c2b") & (func.strpos(body, receipt) > 0) for receipt in receipts
        ]
        statement = select(ResultInbox).where(or_(*clauses))
        return (await self.session.execute(statement)).scalars().all()
