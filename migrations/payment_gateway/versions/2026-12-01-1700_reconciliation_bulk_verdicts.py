"""reconciliation bulk verdicts: a verdict's M-Pesa record and an exception's verdict are no
longer foreign keys. Each was checked row by row, and the check locks the referenced row (a
write to every record a run judges, then to every verdict it opened an exception for): a
third of a million-line run's time. Both are written in the statement that reads what they
name, and records and verdicts are never deleted.

Revision ID: 0011_gateway_bulk_verdicts
Revises: 0010_gateway_daraja_credentials
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_gateway_bulk_verdicts"
down_revision: str | None = "0010_gateway_daraja_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(
        "reconciliation_item_record_id_fkey",
        "reconciliation_item",
        type_="foreignkey",
        schema="gateway",
    )
    op.drop_constraint(
        "reconciliation_exception_item_id_fkey",
        "reconciliation_exception",
        type_="foreignkey",
        schema="gateway",
    )


def downgrade() -> None:
    op.create_foreign_key(
        "reconciliation_exception_item_id_fkey",
        "reconciliation_exception",
        "reconciliation_item",
        ["item_id"],
        ["id"],
        source_schema="gateway",
        referent_schema="gateway",
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "reconciliation_item_record_id_fkey",
        "reconciliation_item",
        "mpesa_record",
        ["record_id"],
        ["id"],
        source_schema="gateway",
        referent_schema="gateway",
        ondelete="SET NULL",
    )
