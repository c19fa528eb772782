"""erasure: an erased account keeps its row (payments and the wallet point at it) with when it was
erased and its phone as a keyed hash

Revision ID: 0007_erasure
Revises: 0006_sessions_audit
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_erasure"
down_revision: str | None = "0006_sessions_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sessions"


def upgrade() -> None:
    op.add_column("user_account", sa.Column("erased_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.add_column("user_account", sa.Column("phone_hash", sa.String(69)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("user_account", "phone_hash", schema=SCHEMA)
    op.drop_column("user_account", "erased_at", schema=SCHEMA)
