"""platform settings: the gateway's active Daraja environment (and its paybill) as session-api
keeps it; a payment event of a sandbox payment while the platform is in production is refused

Revision ID: 0010_platform_settings
Revises: 0009_console
Create Date: 2026-12-01 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_platform_settings"
down_revision: str | None = "0009_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sessions"
OUTCOME_CHECK = "gateway_event_outcome_check"
OUTCOMES = ("applied", "unchanged", "stale", "unmatched")


def _outcomes(values: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    op.drop_constraint(OUTCOME_CHECK, "gateway_event", schema=SCHEMA, type_="check")
    op.create_check_constraint(
        OUTCOME_CHECK, "gateway_event", f"outcome IN ({listed})", schema=SCHEMA
    )


def upgrade() -> None:
    op.create_table(
        "platform_setting",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("payment_environment", sa.String(length=16), nullable=False),
        sa.Column("paybill_number", sa.String(length=16), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
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
        sa.CheckConstraint("id = 1", name=op.f("platform_setting_single_row_check")),
        sa.CheckConstraint(
            "payment_environment IN ('sandbox', 'production')",
            name=op.f("platform_setting_payment_environment_check"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("platform_setting_pkey")),
        schema=SCHEMA,
    )
    _outcomes((*OUTCOMES, "sandbox_refused"))


def downgrade() -> None:
    op.execute(
        "UPDATE sessions.gateway_event SET outcome = 'unchanged' WHERE outcome = 'sandbox_refused'"
    )
    _outcomes(OUTCOMES)
    op.drop_table("platform_setting", schema=SCHEMA)
