"""refunds: a paid attempt may end refunded (M-Pesa Reversal), so may the payable it paid (an
order becomes refunded); a refunded wallet credit is taken back by a `refund` ledger entry; an
attempt knows when the gateway holds its payment for review

Revision ID: 0005_refunds
Revises: 0004_staff_role
Create Date: 2026-12-01 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_refunds"
down_revision: str | None = "0004_staff_role"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sessions"
ATTEMPT = "'processing', 'paid', 'failed', 'cancelled', 'timeout'"
PAYABLE = "'unpaid', 'processing', 'paid', 'failed', 'cancelled', 'timeout'"
ORDER = "'pending', 'paid', 'processing', 'shipped', 'delivered', 'cancelled'"
KINDS = "'deposit', 'unapplied_payment'"
# (table, constraint, column, values before)
CHECKS = (
    ("payment_attempt", "payment_attempt_status_check", "status", ATTEMPT),
    ("wallet_deposit", "wallet_deposit_status_check", "status", ATTEMPT),
    ("booking", "booking_payment_status_check", "payment_status", PAYABLE),
    ("customer_order", "customer_order_payment_status_check", "payment_status", PAYABLE),
    ("customer_order", "customer_order_status_check", "status", ORDER),
)
KIND_CHECK = "wallet_ledger_entry_kind_check"


def _check(table: str, name: str, condition: str) -> None:
    op.drop_constraint(name, table, schema=SCHEMA, type_="check")
    op.create_check_constraint(name, table, condition, schema=SCHEMA)


def upgrade() -> None:
    op.add_column(
        "payment_attempt", sa.Column("review_reason", sa.String(length=64)), schema=SCHEMA
    )
    for table, name, column, values in CHECKS:
        _check(table, name, f"{column} IN ({values}, 'refunded')")
    _check("wallet_ledger_entry", KIND_CHECK, f"kind IN ({KINDS}, 'refund')")


def downgrade() -> None:
    # What a refund changed goes back to paid; ledger entries are append-only (a trigger refuses
    # DELETE), so a database with refund entries cannot go back: refused rather than corrupted.
    refunds = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM sessions.wallet_ledger_entry WHERE kind = 'refund'"
    )
    if refunds.scalar():
        raise RuntimeError("wallet refund entries exist; this migration cannot be undone")
    for table, name, column, values in CHECKS:
        rows = sa.table(table, sa.column(column), schema=SCHEMA)
        op.execute(rows.update().where(rows.c[column] == "refunded").values({column: "paid"}))
        _check(table, name, f"{column} IN ({values})")
    _check("wallet_ledger_entry", KIND_CHECK, f"kind IN ({KINDS})")
    op.drop_column("payment_attempt", "review_reason", schema=SCHEMA)
