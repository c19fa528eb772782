"""refunds: a completed payment may be refunded through M-Pesa Reversal (refund_pending, then
refunded or refund_failed); one refund per payment, with the latest request's ResultURL secret

Revision ID: 0006_gateway_refunds
Revises: 0005_gateway_reconciliation
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_gateway_refunds"
down_revision: str | None = "0005_gateway_reconciliation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "gateway"
STATUS_CHECK = "payment_status_check"
BEFORE = "'pending', 'sent', 'completed', 'failed', 'cancelled', 'timeout'"
AFTER = f"{BEFORE}, 'refund_pending', 'refunded', 'refund_failed'"


def _payment_statuses(listed: str) -> None:
    op.drop_constraint(op.f(STATUS_CHECK), "payment", schema=SCHEMA, type_="check")
    op.create_check_constraint(
        op.f(STATUS_CHECK), "payment", f"status IN ({listed})", schema=SCHEMA
    )


def upgrade() -> None:
    _payment_statuses(AFTER)
    op.create_table(
        "refund",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("payment_id", sa.UUID(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("receipt_number", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("originator_conversation_id", sa.String(length=64), nullable=True),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("result_code", sa.String(length=32), nullable=True),
        sa.Column("result_desc", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.String(length=64), nullable=True),
        sa.Column("reversal_transaction_id", sa.String(length=32), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
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
            "state IN ('requested', 'asked', 'refunded', 'failed')",
            name=op.f("refund_state_check"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("refund_amount_positive_check")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["gateway.payment.id"],
            name=op.f("refund_payment_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("refund_pkey")),
        sa.UniqueConstraint("payment_id", name=op.f("refund_payment_id_key")),
        sa.UniqueConstraint("token_hash", name=op.f("refund_token_hash_key")),
        schema=SCHEMA,
    )
    op.create_index(
        "refund_open_next_attempt_idx",
        "refund",
        ["next_attempt_at"],
        unique=False,
        schema=SCHEMA,
        postgresql_where=sa.text("state IN ('requested', 'asked')"),
    )


def downgrade() -> None:
    op.drop_index("refund_open_next_attempt_idx", table_name="refund", schema=SCHEMA)
    op.drop_table("refund", schema=SCHEMA)
    # A refunded payment was completed first; that is what it goes back to.
    op.execute(
        "UPDATE gateway.payment SET status = 'completed' "
        "WHERE status IN ('refund_pending', 'refunded', 'refund_failed')"
    )
    _payment_statuses(BEFORE)
