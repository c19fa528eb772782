"""reconciliation bulk verdicts: a verdict's M-Pesa record and an exception's verdict are no
longer foreign keys. Each was checked row by row, and the check locks the referenced row (a
write to every record a run judges, then to every verdict it opened an exception for): a
third of a million-line run's time. Both are written in the statement that reads what they
name, and records and verdicts are never deleted. Exceptions written in bulk take time-ordered
ids from `gateway.time_ordered_uuid()` (a UUIDv7 built from the clock and random bits: the
native `uuidv7()` exists only from PostgreSQL 18, and the platform runs on 17 as well).

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


# Version 7: 48 bits of Unix milliseconds, then random bits; the version nibble of a v4 uuid
# (0100) becomes 0111 by setting its two low bits (bits 52 and 53, set_bit counting from the
# first byte's lowest bit).
TIME_ORDERED_UUID = """
CREATE FUNCTION gateway.time_ordered_uuid() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid()) PLACING substring(
                int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3
            ) FROM 1 FOR 6),
        52, 1), 53, 1),
        'hex')::uuid
$$
"""


def upgrade() -> None:
    op.execute(TIME_ORDERED_UUID)
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
    op.execute("DROP FUNCTION gateway.time_ordered_uuid()")
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
