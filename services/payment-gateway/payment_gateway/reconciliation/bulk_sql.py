"""The set-based statements of reconciliation, too long to read inside the repository: the
statement import's staging COPY and its one INSERT, and the judging of every plain receipt of a
run in one statement."""

from __future__ import annotations

from typing import Any

# The staging table's columns: `copy_many` takes each record as a tuple in this order (`raw`
# as JSON text).
COPIED = [
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
STAGING = """
CREATE TEMP TABLE IF NOT EXISTS mpesa_record_staging (
    source text, receipt text, shortcode text, status text, result_code text, amount integer,
    phone_tail text, account_reference text, checkout_request_id text, completed_at timestamptz,
    run_id uuid, statement_id uuid, raw text
) ON COMMIT DROP;
TRUNCATE mpesa_record_staging;
"""
FROM_STAGING = """
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
PLAIN_RECEIPTS = """
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
