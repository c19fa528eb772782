"""baseline: the schema exists, no tables yet

Revision ID: 0001_sessions_baseline
Revises:
Create Date: 2026-11-22 02:00:00
"""

from collections.abc import Sequence

revision: str = "0001_sessions_baseline"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # env.py creates the schema before the version table; nothing else exists yet.
    pass


def downgrade() -> None:
    pass
