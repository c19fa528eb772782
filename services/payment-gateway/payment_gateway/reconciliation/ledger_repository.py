"""SQL of the questions a reconciliation run asks about payments (the rows it judges and
settles)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, not_, select, tuple_

from payment_gateway.models import (
    Payment,
    PaymentStatus,
    ReconciliationItem,
    StatusQuery,
    StatusQueryState,
)
from shared.repository import RepositoryBase


class LedgerPaymentRepository(RepositoryBase[Payment]):
    """The payments a run compares with M-Pesa's records."""

    model = Payment

    async def in_window(
        self,
        *,
        start: datetime,
        end: datetime,
        statuses: Sequence[str],
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Payment]:
        statement = self.select().where(
            Payment.created_at >= start,
            Payment.created_at < end,
            Payment.status.in_(list(statuses)),
        )
        if after is not None:
            statement = statement.where(tuple_(Payment.created_at, Payment.id) > tuple_(*after))
        statement = statement.order_by(Payment.created_at, Payment.id).limit(limit)
        return list(await self.get_all(statement))

    async def pending_verification(
        self, *, run_id: uuid.UUID, start: datetime, end: datetime, limit: int
    ) -> list[Payment]:
        """Completed payments outside `[start, end)` an earlier run asked Transaction Status
        about without an answer, never judged since, and not yet asked by this run."""

        def asked(*conditions: Any) -> Any:
            return (
                select(StatusQuery.id)
                .where(StatusQuery.payment_id == Payment.id, *conditions)
                .exists()
            )

        judged = select(ReconciliationItem.id).where(ReconciliationItem.payment_id == Payment.id)
        statement = (
            self.select()
            .where(
                Payment.status == PaymentStatus.completed,
                not_(and_(Payment.created_at >= start, Payment.created_at < end)),
                asked(StatusQuery.state != StatusQueryState.answered),
                ~asked(StatusQuery.state == StatusQueryState.answered),
                ~asked(StatusQuery.run_id == run_id),
                ~judged.exists(),
            )
            .order_by(Payment.created_at, Payment.id)
            .limit(limit)
        )
        return list(await self.get_all(statement))

    async def asked_outside(
        self,
        *,
        run_id: uuid.UUID,
        start: datetime,
        end: datetime,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Payment]:
        """Payments outside `[start, end)` this run asked Transaction Status about (those it
        carried over from earlier runs), in keyset order."""
        asked = (
            select(StatusQuery.id)
            .where(StatusQuery.payment_id == Payment.id, StatusQuery.run_id == run_id)
            .exists()
        )
        statement = self.select().where(
            asked, not_(and_(Payment.created_at >= start, Payment.created_at < end))
        )
        if after is not None:
            statement = statement.where(tuple_(Payment.created_at, Payment.id) > tuple_(*after))
        statement = statement.order_by(Payment.created_at, Payment.id).limit(limit)
        return list(await self.get_all(statement))

    async def count_completed(self, *, start: datetime, end: datetime) -> int:
        result = await self.session.execute(
            select(func.count())
            .select_from(Payment)
            .where(
                Payment.status == PaymentStatus.completed,
                Payment.created_at >= start,
                Payment.created_at < end,
            )
        )
        return int(result.scalar_one())

    async def lock_where(self, *conditions: Any) -> list[Payment]:
        """Payments matching `conditions`, row-locked, oldest first (a deterministic order)."""
        return list(
            await self.get_all(
                self.select()
                .where(*conditions)
                .order_by(Payment.created_at, Payment.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )

    async def lock_settleable(
        self, *, since: datetime, until: datetime, unpaid: Sequence[str]
    ) -> int:
        """Row-lock the payments created in `[since, until]` still in an `unpaid` status (any of
        them could be settled with a receipt at this moment); how many. A settlement that began
        first is waited for, and one that begins after waits for this transaction."""
        result = await self.session.execute(
            select(Payment.id)
            .where(
                Payment.created_at >= since,
                Payment.created_at <= until,
                Payment.status.in_(list(unpaid)),
            )
            .order_by(Payment.created_at, Payment.id)
            .with_for_update()
        )
        return len(result.all())

    async def by_receipt(self, receipt: str) -> Payment | None:
        found = await self.lock_where(Payment.receipt_number == receipt)
        return found[0] if found else None

    async def by_checkout(self, checkout_request_id: str) -> Payment | None:
        found = await self.lock_where(Payment.checkout_request_id == checkout_request_id)
        return found[0] if found else None

    async def by_reference(
        self, *, account_reference: str, amount: int, since: datetime, until: datetime
    ) -> list[Payment]:
        return await self.lock_where(
            func.upper(Payment.account_reference) == account_reference.upper(),
            Payment.amount == amount,
            Payment.created_at >= since,
            Payment.created_at <= until,
        )

    async def earlier_paid_for_payable(self, payment: Payment) -> Payment | None:
        """Another completed payment for the same payable (session-api's metadata names it),
        created before this one."""
        payable_type = payment.metadata_.get("payable_type")
        payable_id = payment.metadata_.get("payable_id")
        if not payable_type or not payable_id:
            return None
        return await self.get_one_or_none(
            self.select()
            .where(
                Payment.metadata_["payable_type"].astext == str(payable_type),
                Payment.metadata_["payable_id"].astext == str(payable_id),
                Payment.status == PaymentStatus.completed,
                tuple_(Payment.created_at, Payment.id) < tuple_(payment.created_at, payment.id),
            )
            .order_by(Payment.created_at, Payment.id)
            .limit(1)
        )

    async def open_with_reference(self, account_reference: str, *, since: datetime) -> bool:
        """Whether an unpaid payment created since `since` carries this account reference."""
        result = await self.session.execute(
            select(Payment.id)
            .where(
                func.upper(Payment.account_reference) == account_reference.strip().upper(),
                Payment.receipt_number.is_(None),
                Payment.status != PaymentStatus.completed,
                Payment.created_at >= since,
            )
            .limit(1)
        )
        return result.first() is not None

    async def by_receipts(self, receipts: Sequence[str]) -> list[Payment]:
        if not receipts:
            return []
        return await self.lock_where(Payment.receipt_number.in_(list(receipts)))

    async def by_checkouts(self, checkout_ids: Sequence[str]) -> list[Payment]:
        if not checkout_ids:
            return []
        return await self.lock_where(Payment.checkout_request_id.in_(list(checkout_ids)))

    async def by_references(
        self, pairs: Sequence[tuple[str, int]], *, since: datetime, until: datetime
    ) -> list[Payment]:
        """Payments with any of these (upper-cased account reference, amount) pairs."""
        if not pairs:
            return []
        return await self.lock_where(
            tuple_(func.upper(Payment.account_reference), Payment.amount).in_(list(pairs)),
            Payment.created_at >= since,
            Payment.created_at <= until,
        )
