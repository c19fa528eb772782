"""held payments free the phone: the one-open-payment-per-phone rule skips payments held for
review, which are no longer monitored

Revision ID: 0003_gateway_held_frees_phone
Revises: 0002_gateway_payments
Create Date: 2026-11-22 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_gateway_held_frees_phone"
down_revision: str | None = "0002_gateway_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _open_phone_index(where: str) -> None:
    op.drop_index("payment_open_phone_key", table_name="payment", schema="gateway")
    op.create_index(
        "payment_open_phone_key",
        "payment",
        ["phone"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    _open_phone_index("status IN ('pending', 'sent') AND review_reason IS NULL")


def downgrade() -> None:
    _open_phone_index("status IN ('pending', 'sent')")
