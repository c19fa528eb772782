"""daraja credentials: each environment's Daraja app and shortcode, the secrets sealed with
AES-256-GCM under a per-row data key wrapped by a key-encryption key from settings; and the
gateway's run-time settings (the active Daraja environment)

Revision ID: 0010_gateway_daraja_credentials
Revises: 0009_gateway_console
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_gateway_daraja_credentials"
down_revision: str | None = "0009_gateway_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECRETS = ("consumer_key", "consumer_secret", "passkey", "initiator_name", "security_credential")


def _timestamps() -> list[sa.Column[object]]:
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "daraja_credential",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("shortcode", sa.String(length=16), nullable=False),
        sa.Column("shortcode_type", sa.String(length=16), nullable=False),
        sa.Column("callback_base_url", sa.String(length=300), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("data_key", sa.LargeBinary(), nullable=False),
        *[sa.Column(name, sa.LargeBinary(), nullable=False) for name in SECRETS],
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("tested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("test_passed", sa.Boolean(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "environment IN ('sandbox', 'production')",
            name=op.f("daraja_credential_environment_check"),
        ),
        sa.CheckConstraint(
            "shortcode_type IN ('paybill', 'till')",
            name=op.f("daraja_credential_shortcode_type_check"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("daraja_credential_pkey")),
        sa.UniqueConstraint("environment", name=op.f("daraja_credential_environment_key")),
        schema="gateway",
    )
    op.create_table(
        "gateway_setting",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("daraja_environment", sa.String(length=16), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("id = 1", name=op.f("gateway_setting_single_row_check")),
        sa.CheckConstraint(
            "daraja_environment IN ('sandbox', 'production')",
            name=op.f("gateway_setting_daraja_environment_check"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("gateway_setting_pkey")),
        schema="gateway",
    )


def downgrade() -> None:
    op.drop_table("gateway_setting", schema="gateway")
    op.drop_table("daraja_credential", schema="gateway")
