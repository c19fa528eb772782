"""erased phones: a payment's phone may be replaced by its keyed hash when its payer is erased

Revision ID: 0008_gateway_erased_phones
Revises: 0007_gateway_audit
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_gateway_erased_phones"
down_revision: str | None = "0007_gateway_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "gateway"
CHECK = "payment_phone_format_check"
PHONE = "phone ~ '^254[17][0-9]{8}$'"
ERASED = "phone ~ '^hmac:[0-9a-f]{64}$'"


def upgrade() -> None:
    op.drop_constraint(op.f(CHECK), "payment", schema=SCHEMA, type_="check")
    op.alter_column("payment", "phone", type_=sa.String(69), existing_nullable=False, schema=SCHEMA)
    op.create_check_constraint(op.f(CHECK), "payment", f"{PHONE} OR {ERASED}", schema=SCHEMA)


def downgrade() -> None:
    # An erased phone has no plain form to go back to: the downgrade refuses while one exists.
    op.drop_constraint(op.f(CHECK), "payment", schema=SCHEMA, type_="check")
    op.alter_column("payment", "phone", type_=sa.String(12), existing_nullable=False, schema=SCHEMA)
    op.create_check_constraint(op.f(CHECK), "payment", PHONE, schema=SCHEMA)
