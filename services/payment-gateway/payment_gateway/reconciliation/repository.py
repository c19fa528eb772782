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
from shared.repository import RepositoryBase

# The staging table's columns: `copy_many` takes each record as a tuple in this order (`raw`
# as JSON text).
_COPIED = [
    "source",
    "receipt",
    "shortcode",
    "status",
    "result_code",
    "amount",
    "phone_tail",
    "account_reference",
    "checkout_request_id",
    "completed_at",
    "run_id",
    "statement_id",
    "raw",
]
StagedRecord = tuple[Any, ...]
_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS mpesa_record_staging (
    source text, receipt text, shortcode text, status text, result_code text, amount integer,
    phone_tail text, account_reference text, checkout_request_id text, completed_at timestamptz,
    run_id uuid, statement_id uuid, raw text
) ON COMMIT DROP;
TRUNCATE mpesa_record_staging;
"""
_FROM_STAGING = """
WITH inserted AS (
    INSERT INTO gateway.mpesa_record (
        source, receipt, shortcode, status, result_code, amount, phone_tail, account_reference,
        checkout_request_id, completed_at, run_id, statement_id, raw, created_at
    )
    SELECT source, receipt, shortcode, status, result_code, amount, phone_tail,
        account_reference, checkout_request_id, completed_at, run_id, statement_id, raw::jsonb,
        now()
    FROM mpesa_record_staging
    ON CONFLICT (source, receipt) WHERE receipt IS NOT NULL DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM inserted
"""
# The receipts of a run's window whose verdict is a lookup, judged in one statement: money with
# nothing here that could be its payment (`unmatched_mpesa`, with an exception), and receipts
# carried by a completed payment of the same amount that no other push, earlier payment of its
# payable or verdict of this run contradicts (`matched`). Every other receipt is left to the
# rules of `matching.py` (the same lookups, so the two agree). Each receipt's evidence is merged
# as `Evidence.merge` does: the first record by source priority speaks, the first known value
# of each column fills in. A receipt or payment judged already in this run keeps its verdict:
# `done`, read once before the first insert (a lookup of the items table per row would also
# walk the index entries of the rows this statement inserts, quadratic), so no ON CONFLICT and
# its speculative insertion is needed. Rows go in receipt order and exceptions
# take time-ordered ids (`gateway.time_ordered_uuid()`, a UUIDv7), so every index grows at its
# right edge.
_PLAIN_RECEIPTS = """
WITH given AS (
    SELECT CAST(:run_id AS uuid) AS run_id, CAST(:sources AS text[]) AS sources,
        CAST(:priority AS text[]) AS priority, CAST(:shortcode AS text) AS shortcode,
        CAST(:start AS timestamptz) AS start, CAST(:end AS timestamptz) AS "end",
        CAST(:slack AS interval) AS slack, CAST(:lookback AS interval) AS lookback
),
window_receipts AS (
    SELECT DISTINCT r.receipt FROM gateway.mpesa_record r, given g
    WHERE r.source = ANY(g.sources) AND r.shortcode = g.shortcode AND r.receipt IS NOT NULL
        AND r.status = 'completed' AND r.completed_at >= g.start AND r.completed_at < g."end"
),
records AS (
    SELECT r.*, array_position(g.priority, r.source::text) AS priority
    FROM gateway.mpesa_record r JOIN window_receipts w ON w.receipt = r.receipt, given g
    WHERE r.source = ANY(g.sources) AND r.status = 'completed'
),
evidence AS MATERIALIZED (
    SELECT receipt,
        (array_agg(id ORDER BY priority, id))[1] AS record_id,
        (array_agg(amount ORDER BY priority, id) FILTER (WHERE amount IS NOT NULL))[1]
            AS amount,
        (array_agg(account_reference ORDER BY priority, id)
            FILTER (WHERE account_reference IS NOT NULL))[1] AS account_reference,
        (array_agg(checkout_request_id ORDER BY priority, id)
            FILTER (WHERE checkout_request_id IS NOT NULL))[1] AS checkout_request_id,
        (array_agg(completed_at ORDER BY priority, id)
            FILTER (WHERE completed_at IS NOT NULL))[1] AS completed_at,
        string_agg(DISTINCT source, ',' ORDER BY source) AS sources
    FROM records GROUP BY receipt
),
done AS MATERIALIZED (
    SELECT i.receipt, i.payment_id FROM gateway.reconciliation_item i, given g
    WHERE i.run_id = g.run_id
),
judged AS (
    SELECT e.*, o.id AS owner_id, o.amount AS owner_amount,
        CASE WHEN o.id IS NULL THEN 'unmatched_mpesa' ELSE 'matched' END AS verdict
    FROM evidence e CROSS JOIN given g
    LEFT JOIN gateway.payment o ON o.receipt_number = e.receipt
    WHERE (e.checkout_request_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM gateway.payment p
            WHERE p.checkout_request_id = e.checkout_request_id AND p.id IS DISTINCT FROM o.id
        ))
        AND CASE WHEN o.id IS NULL THEN
            e.account_reference IS NULL OR coalesce(e.amount, 0) = 0 OR NOT EXISTS (
                SELECT 1 FROM gateway.payment p
                WHERE upper(p.account_reference) = upper(e.account_reference)
                    AND p.amount = e.amount
                    AND p.created_at >= coalesce(e.completed_at, g."end") + g.slack - g.lookback
                    AND p.created_at <= coalesce(e.completed_at, g."end") + g.slack
            )
        ELSE
            o.status = 'completed' AND o.amount = e.amount AND NOT EXISTS (
                SELECT 1 FROM gateway.payment q
                WHERE coalesce(o.metadata ->> 'payable_type', '') <> ''
                    AND coalesce(o.metadata ->> 'payable_id', '') <> ''
                    AND q.metadata ->> 'payable_type' = o.metadata ->> 'payable_type'
                    AND q.metadata ->> 'payable_id' = o.metadata ->> 'payable_id'
                    AND q.status = 'completed'
                    AND (q.created_at, q.id) < (o.created_at, o.id)
            )
        END
),
items AS (
    INSERT INTO gateway.reconciliation_item (
        run_id, verdict, payment_id, receipt, record_id, source, amount, mpesa_amount, detail,
        created_at
    )
    SELECT g.run_id, j.verdict, j.owner_id, j.receipt, j.record_id, j.sources, j.owner_amount,
        j.amount,
        CASE WHEN j.owner_id IS NULL
            THEN '{"note": "no payment here matches this money"}'::jsonb
            ELSE jsonb_build_object('note', '', 'payment_receipt', j.receipt)
        END,
        now()
    FROM judged j, given g
    WHERE NOT EXISTS (SELECT 1 FROM done d WHERE d.receipt = j.receipt)
        AND NOT EXISTS (SELECT 1 FROM done d WHERE d.payment_id = j.owner_id)
    ORDER BY j.receipt
    RETURNING id, verdict, receipt
),
opened AS (
    INSERT INTO gateway.reconciliation_exception (
        id, subject, run_id, item_id, verdict, receipt, status, created_at
    )
    SELECT gateway.time_ordered_uuid(), i.verdict || ':' || i.receipt, g.run_id, i.id,
        i.verdict, i.receipt, 'open', now()
    FROM items i, given g WHERE i.verdict = 'unmatched_mpesa'
    ORDER BY i.receipt
    ON CONFLICT (subject) WHERE status = 'open' DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM opened)
"""


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
        """`add_many` for large batches (a statement import), each record a tuple in `_COPIED`
        order: COPY into a staging table of this transaction, then one INSERT ... SELECT that
        skips receipts this source already has. Every record carries a receipt (its key is the
        only one checked for a conflict)."""
        if not rows:
            return 0
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.execute(_STAGING)
        await driver.copy_records_to_table("mpesa_record_staging", columns=_COPIED, records=rows)
        inserted = await driver.fetchval(_FROM_STAGING)
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
        `_PLAIN_RECEIPTS`); the number of verdicts stored and of exceptions opened."""
        result = await self.session.execute(
            text(_PLAIN_RECEIPTS),
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
