"""SQL of reconciliation: runs, M-Pesa's records, verdicts, exceptions, Transaction Status
requests and the inbox of what Daraja posts (the questions about payments are in
`ledger_repository.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert

from payment_gateway.models import (
    ExceptionStatus,
    MpesaRecord,
    ReconciliationException,
    ReconciliationItem,
    ReconciliationRun,
    RunStatus,
    StatementImport,
)
from payment_gateway.reconciliation import bulk_sql
from payment_gateway.reconciliation.bulk_sql import StagedRecord
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

    async def copy_many(self, rows: Sequence[StagedRecord]) -> int:
        """`add_many` for large batches (a statement import), each record a tuple in
        `bulk_sql.COPIED` order: COPY into a staging table of this transaction, then one
        INSERT ... SELECT that skips receipts this source already has. Every record carries a
        receipt (its key is the only one checked for a conflict)."""
        if not rows:
            return 0
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.execute(bulk_sql.STAGING)
        await driver.copy_records_to_table(
            "mpesa_record_staging", columns=bulk_sql.COPIED, records=rows
        )
        inserted = await driver.fetchval(bulk_sql.FROM_STAGING)
        return int(inserted)

    async def receipts_in_window(
        self,
        *,
        run_id: uuid.UUID,
        sources: Iterable[str],
        shortcode: str,
        start: datetime,
        end: datetime,
        after: str | None,
        limit: int,
    ) -> list[str]:
        """Receipts of money M-Pesa says arrived in `[start, end)` that this run has not
        judged yet, in receipt order."""
        judged = select(ReconciliationItem.id).where(
            ReconciliationItem.run_id == run_id, ReconciliationItem.receipt == MpesaRecord.receipt
        )
        statement = (
            select(MpesaRecord.receipt)
            .where(
                ~judged.exists(),
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

    async def by_checkouts(
        self, checkout_ids: Sequence[str], *, sources: Iterable[str]
    ) -> list[MpesaRecord]:
        """Receipts that prove these pushes (Transaction Status asked by CheckoutRequestID)."""
        if not checkout_ids:
            return []
        return list(
            await self.get_all(
                self.select()
                .where(
                    MpesaRecord.checkout_request_id.in_(list(checkout_ids)),
                    MpesaRecord.receipt.is_not(None),
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

    async def has_receipt(self, *, run_id: uuid.UUID, receipt: str) -> bool:
        result = await self.session.execute(
            select(ReconciliationItem.id).where(
                ReconciliationItem.run_id == run_id, ReconciliationItem.receipt == receipt
            )
        )
        return result.first() is not None

    async def judge_plain_receipts(
        self,
        *,
        run_id: uuid.UUID,
        sources: Sequence[str],
        priority: Sequence[str],
        shortcode: str,
        start: datetime,
        end: datetime,
        slack: timedelta,
        lookback: timedelta,
    ) -> tuple[int, int]:
        """Judge, in one statement, the window's receipts whose verdict is a lookup (see
        `bulk_sql.PLAIN_RECEIPTS`); the number of verdicts stored and of exceptions opened."""
        result = await self.session.execute(
            text(bulk_sql.PLAIN_RECEIPTS),
            {
                "run_id": run_id,
                "sources": list(sources),
                "priority": list(priority),
                "shortcode": shortcode,
                "start": start,
                "end": end,
                "slack": slack,
                "lookback": lookback,
            },
        )
        judged, opened = result.one()
        return int(judged), int(opened)

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

    async def open_many(self, exceptions: Sequence[ReconciliationException]) -> int:
        """Open each exception unless one is open for its subject; how many were opened."""
        if not exceptions:
            return 0
        result = await self.session.execute(
            insert(ReconciliationException)
            .values(
                [
                    {
                        "id": e.id,
                        "subject": e.subject,
                        "run_id": e.run_id,
                        "item_id": e.item_id,
                        "verdict": e.verdict,
                        "payment_id": e.payment_id,
                        "receipt": e.receipt,
                        "status": ExceptionStatus.open,
                    }
                    for e in exceptions
                ]
            )
            .on_conflict_do_nothing(index_elements=["subject"], index_where=text("status = 'open'"))
            .returning(ReconciliationException.id)
        )
        return len(result.all())

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
