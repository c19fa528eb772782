"""console: every STK Query and its answer (pending ones too) and the count of each callback's
identical resends, for the staff timeline; hourly rollups of payments for the console's stats;
and the indexes the console's stats and lookups read through

Revision ID: 0009_gateway_console
Revises: 0008_gateway_erased_phones
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_gateway_console"
down_revision: str | None = "0008_gateway_erased_phones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "gateway"


def upgrade() -> None:
    op.add_column(
        "callback_inbox",
        sa.Column("resends", sa.Integer(), server_default="0", nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "payment_poll",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("result_code", sa.String(length=32), nullable=True),
        sa.Column("result_desc", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            [f"{SCHEMA}.payment.id"],
            name="payment_poll_payment_id_fkey",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="payment_poll_pkey"),
        schema=SCHEMA,
    )
    op.create_index("payment_poll_payment_id_idx", "payment_poll", ["payment_id"], schema=SCHEMA)
    # The stats roll an hour of payments up from this index alone (an index-only scan).
    op.create_index(
        "payment_console_stats_idx",
        "payment",
        ["created_at"],
        postgresql_include=["status", "amount", "reason", "pushed_at", "settled_at"],
        schema=SCHEMA,
    )
    op.create_index("payment_updated_at_idx", "payment", ["updated_at"], schema=SCHEMA)
    op.create_table(
        "payment_stats_hour",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "status", "reason", name="payment_stats_hour_pkey"),
        schema=SCHEMA,
    )
    op.create_table(
        "payment_settle_hour",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "seconds", name="payment_settle_hour_pkey"),
        schema=SCHEMA,
    )
    op.create_table(
        "payment_stats_state",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("refreshed_through", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="payment_stats_state_pkey"),
        schema=SCHEMA,
    )
    op.create_index(
        "payment_held_idx",
        "payment",
        ["review_reason"],
        postgresql_where=sa.text("review_reason IS NOT NULL"),
        schema=SCHEMA,
    )
    op.create_index(
        "reconciliation_item_payment_id_idx",
        "reconciliation_item",
        ["payment_id", "id"],
        postgresql_where=sa.text("payment_id IS NOT NULL"),
        schema=SCHEMA,
    )
    op.create_index(
        "reconciliation_exception_payment_id_idx",
        "reconciliation_exception",
        ["payment_id"],
        postgresql_where=sa.text("payment_id IS NOT NULL"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for index, table in (
        ("reconciliation_exception_payment_id_idx", "reconciliation_exception"),
        ("reconciliation_item_payment_id_idx", "reconciliation_item"),
        ("payment_held_idx", "payment"),
        ("payment_updated_at_idx", "payment"),
        ("payment_console_stats_idx", "payment"),
    ):
        op.drop_index(index, table_name=table, schema=SCHEMA)
    for rollup in ("payment_stats_state", "payment_settle_hour", "payment_stats_hour"):
        op.drop_table(rollup, schema=SCHEMA)
    op.drop_index("payment_poll_payment_id_idx", table_name="payment_poll", schema=SCHEMA)
    op.drop_table("payment_poll", schema=SCHEMA)
    op.drop_column("callback_inbox", "resends", schema=SCHEMA)
