"""staff role: staff see and act on payments and exceptions; only admins change settings and users

Revision ID: 0004_staff_role
Revises: 0003_notification_delivery
Create Date: 2026-12-01 15:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_staff_role"
down_revision: str | None = "0003_notification_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sessions"
TABLE = "user_account"
CHECK = "user_account_role_check"


def upgrade() -> None:
    op.drop_constraint(CHECK, TABLE, schema=SCHEMA, type_="check")
    op.create_check_constraint(
        CHECK, TABLE, "role IN ('client', 'therapist', 'staff', 'admin')", schema=SCHEMA
    )


def downgrade() -> None:
    op.execute("UPDATE sessions.user_account SET role = 'client' WHERE role = 'staff'")
    op.drop_constraint(CHECK, TABLE, schema=SCHEMA, type_="check")
    op.create_check_constraint(
        CHECK, TABLE, "role IN ('client', 'therapist', 'admin')", schema=SCHEMA
    )
