"""notification outbox: one row per (event, recipient, channel) for email and SMS; preferences

Revision ID: 0003_notification_delivery
Revises: 0002_sessions_core
Create Date: 2026-12-01 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_notification_delivery"
down_revision: str | None = "0002_sessions_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sessions"
TABLE = "notification_delivery"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_key", sa.String(160), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("content", postgresql.JSONB(), nullable=False),
        sa.Column("subject", sa.String(300), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("receipt_attempt_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_message_id", sa.String(120), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=f"{TABLE}_pkey"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.user_account.id"],
            name=f"{TABLE}_user_id_fkey",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("event_key", "user_id", "channel", name=f"{TABLE}_event_key_key"),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=f"{TABLE}_channel_check"),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'failed')",
            name=f"{TABLE}_status_check",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        f"{SCHEMA}_{TABLE}_status_idx", TABLE, ["status", "next_attempt_at"], schema=SCHEMA
    )
    op.create_index(
        f"{SCHEMA}_{TABLE}_provider_message_id_idx",
        TABLE,
        ["provider_message_id"],
        schema=SCHEMA,
    )
    op.create_table(
        "notification_preference",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="notification_preference_pkey"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.user_account.id"],
            name="notification_preference_user_id_fkey",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "user_id", "topic", "channel", name="notification_preference_user_id_key"
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("notification_preference", schema=SCHEMA)
    op.drop_table(TABLE, schema=SCHEMA)
