"""reconciliation: runs over a half-open window (one per shortcode, window and source set),
M-Pesa's records from every source (one per receipt per source), statement imports, Transaction Status requests and their results' inbox, one verdict
per payment and receipt per run, and the exceptions staff resolve; outbox events may be about
something other than one payment (reconciliation.completed)

Revision ID: 0005_gateway_reconciliation
Revises: 0004_gateway_callback_verdicts
Create Date: 2026-12-01 13:19:44.391579
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_gateway_reconciliation"
down_revision: str | None = "0004_gateway_callback_verdicts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _payment_optional(nullable: bool) -> None:
    """An outbox event may be about something other than one payment (reconciliation)."""
    for table in ("outbox_event", "event_delivery"):
        op.alter_column(table, "payment_id", nullable=nullable, schema="gateway")


def upgrade() -> None:
    _payment_optional(True)
    op.create_table(
        "reconciliation_run",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("run_key", sa.String(length=200), nullable=False),
        sa.Column("shortcode", sa.String(length=16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sources", postgresql.ARRAY(sa.String(length=24)), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column(
            "checkpoint",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "summary",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "source_results",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'completed', 'failed')",
            name=op.f("reconciliation_run_status_check"),
        ),
        sa.CheckConstraint(
            "window_start < window_end", name=op.f("reconciliation_run_window_order_check")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("reconciliation_run_pkey")),
        sa.UniqueConstraint("run_key", name=op.f("reconciliation_run_run_key_key")),
        schema="gateway",
    )
    op.create_table(
        "statement_import",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column(
            "rejected",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("statement_import_pkey")),
        schema="gateway",
    )
    op.create_table(
        "mpesa_record",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("receipt", sa.String(length=32), nullable=True),
        sa.Column("shortcode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("result_code", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("phone_tail", sa.String(length=3), nullable=True),
        sa.Column("account_reference", sa.String(length=64), nullable=True),
        sa.Column("checkout_request_id", sa.String(length=64), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.UUID(), nullable=True),
        sa.Column("statement_id", sa.UUID(), nullable=True),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "source IN ('stk_query', 'transaction_status', 'pull', 'statement', 'c2b')",
            name=op.f("mpesa_record_source_check"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["gateway.reconciliation_run.id"],
            name=op.f("mpesa_record_run_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["gateway.statement_import.id"],
            name=op.f("mpesa_record_statement_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("mpesa_record_pkey")),
        schema="gateway",
    )
    op.create_index(
        "mpesa_record_completed_at_idx",
        "mpesa_record",
        ["completed_at"],
        unique=False,
        schema="gateway",
    )
    op.create_index(
        "mpesa_record_receipt_idx", "mpesa_record", ["receipt"], unique=False, schema="gateway"
    )
    op.create_index(
        "mpesa_record_run_checkout_key",
        "mpesa_record",
        ["run_id", "source", "checkout_request_id"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text("receipt IS NULL"),
    )
    op.create_index(
        "mpesa_record_source_receipt_key",
        "mpesa_record",
        ["source", "receipt"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text("receipt IS NOT NULL"),
    )
    op.create_table(
        "reconciliation_item",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("verdict", sa.String(length=24), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=True),
        sa.Column("related_payment_id", sa.UUID(), nullable=True),
        sa.Column("receipt", sa.String(length=32), nullable=True),
        sa.Column("record_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(length=24), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("mpesa_amount", sa.Integer(), nullable=True),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "verdict IN ('matched', 'settled_late', 'matched_by_reference', 'missing_in_mpesa', 'unmatched_mpesa', 'amount_mismatch', 'duplicate_receipt', 'paid_twice')",
            name=op.f("reconciliation_item_verdict_check"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["gateway.payment.id"],
            name=op.f("reconciliation_item_payment_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["gateway.mpesa_record.id"],
            name=op.f("reconciliation_item_record_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["gateway.reconciliation_run.id"],
            name=op.f("reconciliation_item_run_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("reconciliation_item_pkey")),
        schema="gateway",
    )
    op.create_index(
        "reconciliation_item_run_payment_key",
        "reconciliation_item",
        ["run_id", "payment_id"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text("payment_id IS NOT NULL"),
    )
    op.create_index(
        "reconciliation_item_run_receipt_key",
        "reconciliation_item",
        ["run_id", "receipt"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text("receipt IS NOT NULL"),
    )
    op.create_index(
        "reconciliation_item_run_verdict_idx",
        "reconciliation_item",
        ["run_id", "verdict", "id"],
        unique=False,
        schema="gateway",
    )
    op.create_table(
        "reconciliation_exception",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("verdict", sa.String(length=24), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=True),
        sa.Column("receipt", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('open', 'resolved')", name=op.f("reconciliation_exception_status_check")
        ),
        sa.CheckConstraint(
            "verdict IN ('matched', 'settled_late', 'matched_by_reference', 'missing_in_mpesa', 'unmatched_mpesa', 'amount_mismatch', 'duplicate_receipt', 'paid_twice')",
            name=op.f("reconciliation_exception_verdict_check"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["gateway.reconciliation_item.id"],
            name=op.f("reconciliation_exception_item_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["gateway.reconciliation_run.id"],
            name=op.f("reconciliation_exception_run_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("reconciliation_exception_pkey")),
        schema="gateway",
    )
    op.create_index(
        "reconciliation_exception_open_subject_key",
        "reconciliation_exception",
        ["subject"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "reconciliation_exception_status_idx",
        "reconciliation_exception",
        ["status", "created_at"],
        unique=False,
        schema="gateway",
    )
    op.create_table(
        "result_inbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('result', 'timeout', 'c2b')", name=op.f("result_inbox_kind_check")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("result_inbox_pkey")),
        sa.UniqueConstraint("dedupe_key", name=op.f("result_inbox_dedupe_key_key")),
        schema="gateway",
    )
    op.create_index(
        op.f("gateway_result_inbox_token_hash_idx"),
        "result_inbox",
        ["token_hash"],
        unique=False,
        schema="gateway",
    )
    op.create_index(
        "result_inbox_unprocessed_idx",
        "result_inbox",
        ["received_at"],
        unique=False,
        schema="gateway",
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.create_table(
        "status_query",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("receipt", sa.String(length=32), nullable=True),
        sa.Column("checkout_request_id", sa.String(length=64), nullable=True),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("result_code", sa.String(length=32), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('asked', 'answered', 'timed_out', 'refused')",
            name=op.f("status_query_state_check"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["gateway.payment.id"],
            name=op.f("status_query_payment_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["gateway.reconciliation_run.id"],
            name=op.f("status_query_run_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("status_query_pkey")),
        sa.UniqueConstraint("token_hash", name=op.f("status_query_token_hash_key")),
        schema="gateway",
    )
    op.create_index(
        "status_query_run_state_idx",
        "status_query",
        ["run_id", "state"],
        unique=False,
        schema="gateway",
    )


def downgrade() -> None:
    op.execute("DELETE FROM gateway.outbox_event WHERE payment_id IS NULL")
    op.execute("DELETE FROM gateway.event_delivery WHERE payment_id IS NULL")
    _payment_optional(False)
    op.drop_index("status_query_run_state_idx", table_name="status_query", schema="gateway")
    op.drop_table("status_query", schema="gateway")
    op.drop_index(
        "result_inbox_unprocessed_idx",
        table_name="result_inbox",
        schema="gateway",
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.drop_index(
        op.f("gateway_result_inbox_token_hash_idx"), table_name="result_inbox", schema="gateway"
    )
    op.drop_table("result_inbox", schema="gateway")
    op.drop_index(
        "reconciliation_exception_status_idx",
        table_name="reconciliation_exception",
        schema="gateway",
    )
    op.drop_index(
        "reconciliation_exception_open_subject_key",
        table_name="reconciliation_exception",
        schema="gateway",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_table("reconciliation_exception", schema="gateway")
    op.drop_index(
        "reconciliation_item_run_verdict_idx", table_name="reconciliation_item", schema="gateway"
    )
    op.drop_index(
        "reconciliation_item_run_receipt_key",
        table_name="reconciliation_item",
        schema="gateway",
        postgresql_where=sa.text("receipt IS NOT NULL"),
    )
    op.drop_index(
        "reconciliation_item_run_payment_key",
        table_name="reconciliation_item",
        schema="gateway",
        postgresql_where=sa.text("payment_id IS NOT NULL"),
    )
    op.drop_table("reconciliation_item", schema="gateway")
    op.drop_index(
        "mpesa_record_source_receipt_key",
        table_name="mpesa_record",
        schema="gateway",
        postgresql_where=sa.text("receipt IS NOT NULL"),
    )
    op.drop_index(
        "mpesa_record_run_checkout_key",
        table_name="mpesa_record",
        schema="gateway",
        postgresql_where=sa.text("receipt IS NULL"),
    )
    op.drop_index("mpesa_record_receipt_idx", table_name="mpesa_record", schema="gateway")
    op.drop_index("mpesa_record_completed_at_idx", table_name="mpesa_record", schema="gateway")
    op.drop_table("mpesa_record", schema="gateway")
    op.drop_table("statement_import", schema="gateway")
    op.drop_table("reconciliation_run", schema="gateway")
