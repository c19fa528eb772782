"""console: a payment attempt keeps its gateway environment (the staff console filters by it),
and the indexes the console's list reads through

Revision ID: 0009_console
Revises: 0008_risk_flags
Create Date: 2026-12-01 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_console"
down_revision: str | None = "0008_risk_flags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sessions"
TABLE = "payment_attempt"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("environment", sa.String(length=16)), schema=SCHEMA)
    op.create_index("payment_attempt_created_at_id_idx", TABLE, ["created_at", "id"], schema=SCHEMA)
    op.create_index("payment_attempt_payable_id_idx", TABLE, ["payable_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("payment_attempt_payable_id_idx", table_name=TABLE, schema=SCHEMA)
    op.drop_index("payment_attempt_created_at_id_idx", table_name=TABLE, schema=SCHEMA)
    op.drop_column(TABLE, "environment", schema=SCHEMA)
