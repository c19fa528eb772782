"""SQL of reconciliation: runs, M-Pesa's records, verdicts, exceptions, and the questions a run
asks about payments."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert

from payment_gateway.models import (
    ExceptionStatus,
    MpesaRecord,
    Payment,
    PaymentStatus,
    ReconciliationException,
    ReconciliationItem,
    ReconciliationRun,
    RunStatus,
    StatementImport,
)
from shared.repository import RepositoryBase


class RunRepository(RepositoryBase[ReconciliationRun]):
    model = ReconciliationRun

    async def create_once(self, run: ReconciliationRun) -> ReconciliationRun:
        """Insert the run unless one with its key exists; either way return the one stored.
        Two concurrent requests for one window meet on the unique key: one inserts, the other
        waits for it and reads it."""
        values = {
            "id": run.id,
            "run_key": run.run_key,
            "shortcode": run.shortcode,
            "window_start": run.window_start,
            "window_end": run.window_end,
            "sources": run.sources,
            "status": run.status,
            "requested_by": run.requested_by,
        }
        await self.session.execute(
            insert(ReconciliationRun)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["run_key"])
        )
        stored = await self.get_one_or_none(
            self.select()
            .where(ReconciliationRun.run_key == run.run_key)
            .execution_options(populate_existing=True)
        )
        assert stored is not None
        return stored

    async def lock(self, run_id: uuid.UUID) -> ReconciliationRun | None:
        return await self.get_one_or_none(
            self.select()
            .where(ReconciliationRun.id == run_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def unfinished_with_sources(self, sources: Sequence[str]) -> bool:
        result = await self.session.execute(
            select(ReconciliationRun.id)
            .where(
                ReconciliationRun.status.in_([RunStatus.queued, RunStatus.running]),
                ReconciliationRun.sources == list(sources),
            )
            .limit(1)
        )
        return result.first() is not None

    async def stalled(self, *, older_than: datetime, limit: int) -> list[uuid.UUID]:
        result = await self.session.execute(
            select(ReconciliationRun.id)
            .where(
                ReconciliationRun.status.in_([RunStatus.queued, RunStatus.running]),
                ReconciliationRun.updated_at < older_than,
            )
            .order_by(ReconciliationRun.updated_at)
            .limit(limit)
        )
        return list(result.scalars())

    async def page(
        self, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[ReconciliationRun]:
        statement = self.select()
        if after is not None:
            statement = statement.where(
                tuple_(ReconciliationRun.created_at, ReconciliationRun.id) < tuple_(*after)
            )
        statement = statement.order_by(
            ReconciliationRun.created_at.desc(), ReconciliationRun.id.desc()
        ).limit(limit)
        return list(await self.get_all(statement))


class RecordRepository(RepositoryBase[MpesaRecord]):
    model = MpesaRecord

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert records, skipping receipts this source already has; the number inserted."""
        if not rows:
            return 0
        result = await self.session.execute(
            insert(MpesaRecord)
            .values(list(rows))
            .on_conflict_do_nothing()
            .returning(MpesaRecord.id)
        )
        return len(result.all())

    async def receipts_in_window(
        self,
        *,
        sources: Iterable[str],
        shortcode: str,
        start: datetime,
        end: datetime,
        after: str | None,
        limit: int,
    ) -> list[str]:
        """Receipts of money M-Pesa says arrived in `[start, end)`, in receipt order."""
        statement = (
            select(MpesaRecord.receipt)
            .where(
                MpesaRecord.source.in_(list(sources)),
                MpesaRecord.shortcode == shortcode,
                MpesaRecord.receipt.is_not(None),
                MpesaRecord.status == "completed",
                MpesaRecord.completed_at >= start,
                MpesaRecord.completed_at < end,
            )
            .group_by(MpesaRecord.receipt)
            .order_by(MpesaRecord.receipt)
            .limit(limit)
        )
        if after is not None:
            statement = statement.where(MpesaRecord.receipt > after)
        return [r for r in (await self.session.execute(statement)).scalars() if r is not None]

    async def by_receipts(
        self, receipts: Sequence[str], *, sources: Iterable[str]
    ) -> list[MpesaRecord]:
        if not receipts:
            return []
        return list(
            await self.get_all(
                self.select()
                .where(
                    MpesaRecord.receipt.in_(list(receipts)),
                    MpesaRecord.source.in_(list(sources)),
                    MpesaRecord.status == "completed",
                )
                .order_by(MpesaRecord.id)
            )
        )

    async def stk_answers(
        self, *, run_id: uuid.UUID, checkout_ids: Sequence[str]
    ) -> list[MpesaRecord]:
        """What STK Query answered this run about these pushes."""
        if not checkout_ids:
            return []
        return list(
            await self.get_all(
                self.select().where(
                    MpesaRecord.run_id == run_id,
                    MpesaRecord.source == "stk_query",
                    MpesaRecord.checkout_request_id.in_(list(checkout_ids)),
                )
            )
        )


class ItemRepository(RepositoryBase[ReconciliationItem]):
    model = ReconciliationItem

    async def judged_payments(
        self, *, run_id: uuid.UUID, payment_ids: Sequence[uuid.UUID]
    ) -> set[uuid.UUID]:
        if not payment_ids:
            return set()
        result = await self.session.execute(
            select(ReconciliationItem.payment_id).where(
                ReconciliationItem.run_id == run_id,
                ReconciliationItem.payment_id.in_(list(payment_ids)),
            )
        )
        return {p for p in result.scalars() if p is not None}

    async def counts(self, run_id: uuid.UUID) -> dict[str, int]:
        result = await self.session.execute(
            select(ReconciliationItem.verdict, func.count())
            .where(ReconciliationItem.run_id == run_id)
            .group_by(ReconciliationItem.verdict)
        )
        return {verdict: count for verdict, count in result.all()}

    async def page(
        self, *, run_id: uuid.UUID, verdict: str | None, after: int | None, limit: int
    ) -> list[ReconciliationItem]:
        statement = self.select().where(ReconciliationItem.run_id == run_id)
        if verdict is not None:
            statement = statement.where(ReconciliationItem.verdict == verdict)
        if after is not None:
            statement = statement.where(ReconciliationItem.id > after)
        return list(await self.get_all(statement.order_by(ReconciliationItem.id).limit(limit)))


class ExceptionRepository(RepositoryBase[ReconciliationException]):
    model = ReconciliationException

    async def open_once(self, exception: ReconciliationException) -> bool:
        """Open the exception unless one is open for the same subject; whether it was opened."""
        result = await self.session.execute(
            insert(ReconciliationException)
            .values(
                id=exception.id,
                subject=exception.subject,
                run_id=exception.run_id,
                item_id=exception.item_id,
                verdict=exception.verdict,
                payment_id=exception.payment_id,
                receipt=exception.receipt,
                status=ExceptionStatus.open,
            )
            .on_conflict_do_nothing(index_elements=["subject"], index_where=text("status = 'open'"))
            .returning(ReconciliationException.id)
        )
        return result.first() is not None

    async def lock(self, exception_id: uuid.UUID) -> ReconciliationException | None:
        return await self.get_one_or_none(
            self.select()
            .where(ReconciliationException.id == exception_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def page(
        self, *, status: str | None, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[ReconciliationException]:
        statement = self.select()
        if status is not None:
            statement = statement.where(ReconciliationException.status == status)
        if after is not None:
            statement = statement.where(
                tuple_(ReconciliationException.created_at, ReconciliationException.id)
                > tuple_(*after)
            )
        statement = statement.order_by(
            ReconciliationException.created_at, ReconciliationException.id
        ).limit(limit)
        return list(await self.get_all(statement))


class StatementImportRepository(RepositoryBase[StatementImport]):
    model = StatementImport


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
