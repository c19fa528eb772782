"""risk flags: suspicious activity for staff, and each payment attempt's phone as a keyed hash
to find it by

Revision ID: 0008_risk_flags
Revises: 0007_erasure
Create Date: 2026-12-01 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_risk_flags"
down_revision: str | None = "0007_erasure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sessions"
KINDS = ("failed_payments_on_phone", "phones_per_account", "accounts_per_phone")


def upgrade() -> None:
    op.add_column("payment_attempt", sa.Column("phone_hash", sa.String(69)), schema=SCHEMA)
    op.create_index(
        op.f("sessions_payment_attempt_phone_hash_idx"),
        "payment_attempt",
        ["phone_hash", "created_at"],
        schema=SCHEMA,
    )
    op.create_table(
        "risk_flag",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column(
            "user_id",
            sa.Uuid(),
            sa.ForeignKey(
                f"{SCHEMA}.user_account.id",
                ondelete="SET NULL",
                name=op.f("risk_flag_user_id_fkey"),
            ),
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("window_hours", sa.Integer(), nullable=False),
        sa.Column("detail", postgresql.JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
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
            "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
            name=op.f("risk_flag_kind_check"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("risk_flag_pkey")),
        sa.UniqueConstraint("kind", "subject", name=op.f("risk_flag_kind_key")),
        schema=SCHEMA,
    )
    op.create_index(
        op.f("sessions_risk_flag_last_seen_at_idx"), "risk_flag", ["last_seen_at"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index(
        op.f("sessions_risk_flag_last_seen_at_idx"), table_name="risk_flag", schema=SCHEMA
    )
    op.drop_table("risk_flag", schema=SCHEMA)
    op.drop_index(
        op.f("sessions_payment_attempt_phone_hash_idx"),
        table_name="payment_attempt",
        schema=SCHEMA,
    )
    op.drop_column("payment_attempt", "phone_hash", schema=SCHEMA)
