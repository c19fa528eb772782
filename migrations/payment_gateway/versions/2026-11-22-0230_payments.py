"""payments: payments, their timeline and callback tokens, the callback inbox, idempotency
keys, and the outbox with its deliveries and attempts

Revision ID: 0002_gateway_payments
Revises: 0001_gateway_baseline
Create Date: 2026-11-22 02:30:36.738363
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_gateway_payments"
down_revision: str | None = "0001_gateway_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=12), nullable=False),
        sa.Column("account_reference", sa.String(length=12), nullable=False),
        sa.Column("description", sa.String(length=13), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("checkout_request_id", sa.String(length=64), nullable=True),
        sa.Column("merchant_request_id", sa.String(length=64), nullable=True),
        sa.Column("result_code", sa.String(length=32), nullable=True),
        sa.Column("result_desc", sa.Text(), nullable=True),
        sa.Column("receipt_number", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("customer_message", sa.Text(), nullable=False),
        sa.Column("review_reason", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("push_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("poll_step", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
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
            "environment IN ('sandbox', 'production')", name=op.f("payment_environment_check")
        ),
        sa.CheckConstraint("phone ~ '^254[17][0-9]{8}$'", name=op.f("payment_phone_format_check")),
        sa.CheckConstraint(
            "status <> 'completed' OR result_code IS NOT NULL",
            name=op.f("payment_completed_has_result_check"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'completed', 'failed', 'cancelled', 'timeout')",
            name=op.f("payment_status_check"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("payment_amount_positive_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("payment_pkey")),
        sa.UniqueConstraint("checkout_request_id", name=op.f("payment_checkout_request_id_key")),
        schema="gateway",
    )
    op.create_index(
        "payment_created_at_id_idx", "payment", ["created_at", "id"], unique=False, schema="gateway"
    )
    op.create_index(
        "payment_open_next_check_idx",
        "payment",
        ["status", "next_check_at"],
        unique=False,
        schema="gateway",
        postgresql_where=sa.text("status IN ('pending', 'sent')"),
    )
    op.create_index(
        "payment_open_phone_key",
        "payment",
        ["phone"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text("status IN ('pending', 'sent')"),
    )
    op.create_index(
        "payment_phone_amount_pushed_at_idx",
        "payment",
        ["phone", "amount", "pushed_at"],
        unique=False,
        schema="gateway",
    )
    op.create_index(
        "payment_receipt_number_key",
        "payment",
        ["receipt_number"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text("receipt_number IS NOT NULL"),
    )
    op.create_table(
        "callback_inbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('applied', 'duplicate', 'contradiction', 'held', 'invalid', 'ignored')",
            name=op.f("callback_inbox_outcome_check"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["gateway.payment.id"],
            name=op.f("callback_inbox_payment_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("callback_inbox_pkey")),
        sa.UniqueConstraint("dedupe_key", name=op.f("callback_inbox_dedupe_key_key")),
        schema="gateway",
    )
    op.create_index(
        "callback_inbox_unprocessed_idx",
        "callback_inbox",
        ["received_at"],
        unique=False,
        schema="gateway",
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.create_index(
        op.f("gateway_callback_inbox_payment_id_idx"),
        "callback_inbox",
        ["payment_id"],
        unique=False,
        schema="gateway",
    )
    op.create_table(
        "callback_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("push_attempt", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["gateway.payment.id"],
            name=op.f("callback_token_payment_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("callback_token_pkey")),
        schema="gateway",
    )
    op.create_index(
        op.f("gateway_callback_token_payment_id_idx"),
        "callback_token",
        ["payment_id"],
        unique=False,
        schema="gateway",
    )
    op.create_table(
        "idempotency_key",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("principal", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["gateway.payment.id"],
            name=op.f("idempotency_key_payment_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("idempotency_key_pkey")),
        sa.UniqueConstraint("principal", "key", name="idempotency_key_principal_key"),
        schema="gateway",
    )
    op.create_index(
        op.f("gateway_idempotency_key_expires_at_idx"),
        "idempotency_key",
        ["expires_at"],
        unique=False,
        schema="gateway",
    )
    op.create_index(
        op.f("gateway_idempotency_key_payment_id_idx"),
        "idempotency_key",
        ["payment_id"],
        unique=False,
        schema="gateway",
    )
    op.create_table(
        "outbox_event",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["gateway.payment.id"],
            name=op.f("outbox_event_payment_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("outbox_event_pkey")),
        sa.UniqueConstraint("payment_id", "sequence", name="outbox_event_payment_id_sequence_key"),
        schema="gateway",
    )
    op.create_table(
        "payment_event",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "source IN ('api', 'callback', 'query', 'reconciliation', 'admin', 'system')",
            name=op.f("payment_event_source_check"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["gateway.payment.id"],
            name=op.f("payment_event_payment_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("payment_event_pkey")),
        schema="gateway",
    )
    op.create_index(
        op.f("gateway_payment_event_payment_id_idx"),
        "payment_event",
        ["payment_id"],
        unique=False,
        schema="gateway",
    )
    op.create_table(
        "event_delivery",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("endpoint_url", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('pending', 'delivered', 'abandoned')",
            name=op.f("event_delivery_status_check"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["gateway.outbox_event.id"],
            name=op.f("event_delivery_event_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("event_delivery_pkey")),
        sa.UniqueConstraint(
            "event_id", "endpoint_url", name="event_delivery_event_id_endpoint_key"
        ),
        schema="gateway",
    )
    op.create_index(
        "event_delivery_due_idx",
        "event_delivery",
        ["next_attempt_at"],
        unique=False,
        schema="gateway",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "event_delivery_stream_idx",
        "event_delivery",
        ["payment_id", "endpoint_url", "sequence"],
        unique=False,
        schema="gateway",
    )
    op.create_table(
        "delivery_attempt",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "attempted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["gateway.event_delivery.id"],
            name=op.f("delivery_attempt_delivery_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("delivery_attempt_pkey")),
        schema="gateway",
    )
    op.create_index(
        op.f("gateway_delivery_attempt_delivery_id_idx"),
        "delivery_attempt",
        ["delivery_id"],
        unique=False,
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_index(
        op.f("gateway_delivery_attempt_delivery_id_idx"),
        table_name="delivery_attempt",
        schema="gateway",
    )
    op.drop_table("delivery_attempt", schema="gateway")
    op.drop_index("event_delivery_stream_idx", table_name="event_delivery", schema="gateway")
    op.drop_index(
        "event_delivery_due_idx",
        table_name="event_delivery",
        schema="gateway",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("event_delivery", schema="gateway")
    op.drop_index(
        op.f("gateway_payment_event_payment_id_idx"), table_name="payment_event", schema="gateway"
    )
    op.drop_table("payment_event", schema="gateway")
    op.drop_table("outbox_event", schema="gateway")
    op.drop_index(
        op.f("gateway_idempotency_key_payment_id_idx"),
        table_name="idempotency_key",
        schema="gateway",
    )
    op.drop_index(
        op.f("gateway_idempotency_key_expires_at_idx"),
        table_name="idempotency_key",
        schema="gateway",
    )
    op.drop_table("idempotency_key", schema="gateway")
    op.drop_index(
        op.f("gateway_callback_token_payment_id_idx"), table_name="callback_token", schema="gateway"
    )
    op.drop_table("callback_token", schema="gateway")
    op.drop_index(
        op.f("gateway_callback_inbox_payment_id_idx"), table_name="callback_inbox", schema="gateway"
    )
    op.drop_index(
        "callback_inbox_unprocessed_idx",
        table_name="callback_inbox",
        schema="gateway",
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.drop_table("callback_inbox", schema="gateway")
    op.drop_index(
        "payment_receipt_number_key",
        table_name="payment",
        schema="gateway",
        postgresql_where=sa.text("receipt_number IS NOT NULL"),
    )
    op.drop_index("payment_phone_amount_pushed_at_idx", table_name="payment", schema="gateway")
    op.drop_index(
        "payment_open_phone_key",
        table_name="payment",
        schema="gateway",
        postgresql_where=sa.text("status IN ('pending', 'sent')"),
    )
    op.drop_index(
        "payment_open_next_check_idx",
        table_name="payment",
        schema="gateway",
        postgresql_where=sa.text("status IN ('pending', 'sent')"),
    )
    op.drop_index("payment_created_at_id_idx", table_name="payment", schema="gateway")
    op.drop_table("payment", schema="gateway")
