"""core tables: accounts, bookings, orders, wallets, payment attempts, event inbox, notifications

Revision ID: 0002_sessions_core
Revises: 0001_sessions_baseline
Create Date: 2026-11-22 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_sessions_core"
down_revision: str | None = "0001_sessions_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sessions"

PAYABLE_STATUSES = "'unpaid', 'processing', 'paid', 'failed', 'cancelled', 'timeout'"
ATTEMPT_STATUSES = "'processing', 'paid', 'failed', 'cancelled', 'timeout'"


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False)


def _created_at() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _updated_at() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "user_account",
        _id(),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("full_name", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(12), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name="user_account_pkey"),
        sa.UniqueConstraint("email", name="user_account_email_key"),
        sa.CheckConstraint(
            "role IN ('client', 'therapist', 'admin')", name="user_account_role_check"
        ),
        schema=SCHEMA,
    )

    op.create_table(
        "therapist_profile",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_rate", sa.Integer(), nullable=False),
        sa.Column("bio", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "specialties", postgresql.ARRAY(sa.String(60)), server_default="{}", nullable=False
        ),
        sa.Column("is_accepting_clients", sa.Boolean(), server_default=sa.true(), nullable=False),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("user_id", name="therapist_profile_pkey"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.user_account.id"],
            name="therapist_profile_user_id_fkey",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "session_rate > 0", name="therapist_profile_session_rate_positive_check"
        ),
        schema=SCHEMA,
    )

    op.create_table(
        "booking",
        _id(),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("therapist_id", sa.Uuid(), nullable=False),
        sa.Column("session_type", sa.String(32), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_status", sa.String(32), server_default="unpaid", nullable=False),
        sa.Column("payment_reason", sa.String(64), nullable=True),
        sa.Column("last_attempt_id", sa.Uuid(), nullable=True),
        sa.Column("receipt_number", sa.String(32), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "reminders_sent", postgresql.ARRAY(sa.Integer()), server_default="{}", nullable=False
        ),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name="booking_pkey"),
        sa.ForeignKeyConstraint(
            ["client_id"], [f"{SCHEMA}.user_account.id"], name="booking_client_id_fkey"
        ),
        sa.ForeignKeyConstraint(
            ["therapist_id"], [f"{SCHEMA}.user_account.id"], name="booking_therapist_id_fkey"
        ),
        sa.CheckConstraint(
            "status IN ('pending_approval', 'approved', 'confirmed', 'declined', 'cancelled')",
            name="booking_status_check",
        ),
        sa.CheckConstraint(
            "session_type IN ('individual', 'couples', 'family', 'group')",
            name="booking_session_type_check",
        ),
        sa.CheckConstraint(
            f"payment_status IN ({PAYABLE_STATUSES})", name="booking_payment_status_check"
        ),
        sa.CheckConstraint("price > 0", name="booking_price_positive_check"),
        schema=SCHEMA,
    )
    op.create_index(
        "sessions_booking_therapist_id_idx",
        "booking",
        ["therapist_id", "scheduled_at"],
        schema=SCHEMA,
    )
    op.create_index(
        "sessions_booking_client_id_idx", "booking", ["client_id", "scheduled_at"], schema=SCHEMA
    )

    op.create_table(
        "product",
        _id(),
        sa.Column("sku", sa.String(40), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name="product_pkey"),
        sa.UniqueConstraint("sku", name="product_sku_key"),
        sa.CheckConstraint("price > 0", name="product_price_positive_check"),
        schema=SCHEMA,
    )

    op.create_table(
        "customer_order",
        _id(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("subtotal", sa.Integer(), nullable=False),
        sa.Column("delivery_fee", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("delivery", postgresql.JSONB(), nullable=False),
        sa.Column("customer", postgresql.JSONB(), nullable=False),
        sa.Column("payment_status", sa.String(32), server_default="unpaid", nullable=False),
        sa.Column("payment_reason", sa.String(64), nullable=True),
        sa.Column("last_attempt_id", sa.Uuid(), nullable=True),
        sa.Column("receipt_number", sa.String(32), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name="customer_order_pkey"),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{SCHEMA}.user_account.id"], name="customer_order_user_id_fkey"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'processing', 'shipped', 'delivered', 'cancelled')",
            name="customer_order_status_check",
        ),
        sa.CheckConstraint(
            f"payment_status IN ({PAYABLE_STATUSES})", name="customer_order_payment_status_check"
        ),
        sa.CheckConstraint("subtotal > 0", name="customer_order_subtotal_positive_check"),
        sa.CheckConstraint(
            "delivery_fee >= 0", name="customer_order_delivery_fee_not_negative_check"
        ),
        sa.CheckConstraint(
            "total = subtotal + delivery_fee", name="customer_order_total_adds_up_check"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "sessions_customer_order_user_id_idx",
        "customer_order",
        ["user_id", "created_at"],
        schema=SCHEMA,
    )

    op.create_table(
        "order_item",
        _id(),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("product_name", sa.String(120), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("line_total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="order_item_pkey"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            [f"{SCHEMA}.customer_order.id"],
            name="order_item_order_id_fkey",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], [f"{SCHEMA}.product.id"], name="order_item_product_id_fkey"
        ),
        sa.UniqueConstraint("order_id", "position", name="order_item_order_id_key"),
        sa.CheckConstraint("quantity > 0", name="order_item_quantity_positive_check"),
        sa.CheckConstraint("unit_price > 0", name="order_item_unit_price_positive_check"),
        sa.CheckConstraint(
            "line_total = unit_price * quantity", name="order_item_line_total_adds_up_check"
        ),
        schema=SCHEMA,
    )

    op.create_table(
        "payment_attempt",
        _id(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("payable_type", sa.String(32), nullable=False),
        sa.Column("payable_id", sa.Uuid(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(120), nullable=False),
        sa.Column("gateway_payment_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("phone_masked", sa.String(20), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("gateway_status", sa.String(32), nullable=False),
        sa.Column("customer_message", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("result_code", sa.String(32), nullable=True),
        sa.Column("result_desc", sa.Text(), nullable=True),
        sa.Column("receipt_number", sa.String(32), nullable=True),
        sa.Column("checkout_request_id", sa.String(64), nullable=True),
        sa.Column("last_event_sequence", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name="payment_attempt_pkey"),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{SCHEMA}.user_account.id"], name="payment_attempt_user_id_fkey"
        ),
        sa.UniqueConstraint("idempotency_key", name="payment_attempt_idempotency_key_key"),
        sa.UniqueConstraint("gateway_payment_id", name="payment_attempt_gateway_payment_id_key"),
        sa.UniqueConstraint(
            "payable_type",
            "payable_id",
            "attempt_number",
            name="payment_attempt_payable_type_key",
        ),
        sa.CheckConstraint(
            "payable_type IN ('booking', 'order', 'deposit')",
            name="payment_attempt_payable_type_check",
        ),
        sa.CheckConstraint(f"status IN ({ATTEMPT_STATUSES})", name="payment_attempt_status_check"),
        sa.CheckConstraint("amount > 0", name="payment_attempt_amount_positive_check"),
        sa.CheckConstraint(
            "attempt_number > 0", name="payment_attempt_attempt_number_positive_check"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "sessions_payment_attempt_user_id_idx",
        "payment_attempt",
        ["user_id", "created_at"],
        schema=SCHEMA,
    )
    op.create_index(
        "sessions_payment_attempt_status_idx",
        "payment_attempt",
        ["status", "updated_at"],
        schema=SCHEMA,
    )

    op.create_table(
        "wallet",
        _id(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name="wallet_pkey"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.user_account.id"],
            name="wallet_user_id_fkey",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("user_id", name="wallet_user_id_key"),
        sa.CheckConstraint("balance >= 0", name="wallet_balance_not_negative_check"),
        schema=SCHEMA,
    )

    op.create_table(
        "wallet_ledger_entry",
        _id(),
        sa.Column("wallet_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("entry_key", sa.String(120), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("reference_type", sa.String(32), nullable=True),
        sa.Column("reference_id", sa.Uuid(), nullable=True),
        sa.Column("receipt_number", sa.String(32), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="wallet_ledger_entry_pkey"),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            [f"{SCHEMA}.wallet.id"],
            name="wallet_ledger_entry_wallet_id_fkey",
            ondelete="RESTRICT",
        ),
        sa.UniqueConstraint("entry_key", name="wallet_ledger_entry_entry_key_key"),
        sa.CheckConstraint(
            "kind IN ('deposit', 'unapplied_payment')", name="wallet_ledger_entry_kind_check"
        ),
        sa.CheckConstraint("amount <> 0", name="wallet_ledger_entry_amount_not_zero_check"),
        sa.CheckConstraint(
            "balance_after >= 0", name="wallet_ledger_entry_balance_after_not_negative_check"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "sessions_wallet_ledger_entry_wallet_id_idx",
        "wallet_ledger_entry",
        ["wallet_id", "created_at"],
        schema=SCHEMA,
    )
    # The ledger is history: corrections are new entries, never edits.
    op.execute(
        f"""
        CREATE FUNCTION {SCHEMA}.refuse_ledger_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'wallet_ledger_entry is append-only (% refused)', TG_OP;
        END;
        $$
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER wallet_ledger_entry_append_only
        BEFORE UPDATE OR DELETE ON {SCHEMA}.wallet_ledger_entry
        FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.refuse_ledger_change()
        """
    )

    op.create_table(
        "wallet_deposit",
        _id(),
        sa.Column("wallet_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("phone_masked", sa.String(20), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("attempt_id", sa.Uuid(), nullable=True),
        sa.Column("receipt_number", sa.String(32), nullable=True),
        sa.Column("credited_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        _updated_at(),
        sa.PrimaryKeyConstraint("id", name="wallet_deposit_pkey"),
        sa.ForeignKeyConstraint(
            ["wallet_id"], [f"{SCHEMA}.wallet.id"], name="wallet_deposit_wallet_id_fkey"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], [f"{SCHEMA}.user_account.id"], name="wallet_deposit_user_id_fkey"
        ),
        sa.CheckConstraint(f"status IN ({ATTEMPT_STATUSES})", name="wallet_deposit_status_check"),
        sa.CheckConstraint("amount > 0", name="wallet_deposit_amount_positive_check"),
        schema=SCHEMA,
    )
    op.create_index(
        "sessions_wallet_deposit_wallet_id_idx",
        "wallet_deposit",
        ["wallet_id", "created_at"],
        schema=SCHEMA,
    )

    op.create_table(
        "gateway_event",
        _id(),
        sa.Column("webhook_id", sa.String(120), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("gateway_payment_id", sa.String(64), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="gateway_event_pkey"),
        sa.UniqueConstraint("webhook_id", name="gateway_event_webhook_id_key"),
        sa.CheckConstraint(
            "outcome IN ('applied', 'unchanged', 'stale', 'unmatched')",
            name="gateway_event_outcome_check",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "sessions_gateway_event_gateway_payment_id_idx",
        "gateway_event",
        ["gateway_payment_id"],
        schema=SCHEMA,
    )

    op.create_table(
        "notification",
        _id(),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="notification_pkey"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.user_account.id"],
            name="notification_user_id_fkey",
            ondelete="CASCADE",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "sessions_notification_user_id_idx",
        "notification",
        ["user_id", "created_at"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("notification", schema=SCHEMA)
    op.drop_table("gateway_event", schema=SCHEMA)
    op.drop_table("wallet_deposit", schema=SCHEMA)
    op.execute(f"DROP TRIGGER wallet_ledger_entry_append_only ON {SCHEMA}.wallet_ledger_entry")
    op.execute(f"DROP FUNCTION {SCHEMA}.refuse_ledger_change()")
    op.drop_table("wallet_ledger_entry", schema=SCHEMA)
    op.drop_table("wallet", schema=SCHEMA)
    op.drop_table("payment_attempt", schema=SCHEMA)
    op.drop_table("order_item", schema=SCHEMA)
    op.drop_table("customer_order", schema=SCHEMA)
    op.drop_table("product", schema=SCHEMA)
    op.drop_table("booking", schema=SCHEMA)
    op.drop_table("therapist_profile", schema=SCHEMA)
    op.drop_table("user_account", schema=SCHEMA)
