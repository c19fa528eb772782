"""audit trail: an append-only, hash-chained audit_entry (a trigger refuses UPDATE and DELETE,
except the chainer's first link of a row and the archiver's deletes) and its signed
audit_checkpoint (no UPDATE or DELETE at all)

Revision ID: 0006_sessions_audit
Revises: 0005_refunds
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_sessions_audit"
down_revision: str | None = "0005_refunds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "sessions"

ENTRY_GUARD = (
    f"""
CREATE FUNCTION {SCHEMA}.audit_entry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('mpesa.audit_archiving', true) = 'on' AND OLD.hash IS NOT NULL THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_entry is append-only: DELETE refused (rows leave it only '
            'through the archive)' USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The chainer's one update: linking a row that was never linked, its content untouched.
    IF OLD.hash IS NULL AND OLD.seq IS NULL AND NEW.hash IS NOT NULL
        AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action
        AND NEW.actor = OLD.actor AND NEW.subject IS NOT DISTINCT FROM OLD.subject
        AND NEW.ip IS NOT DISTINCT FROM OLD.ip AND NEW.details = OLD.details THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_entry is append-only: UPDATE refused'
        USING ERRCODE = 'insufficient_privilege';
END
$$
""",
    f"""
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON {SCHEMA}.audit_entry
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.audit_entry_append_only()
""",
)

CHECKPOINT_GUARD = (
    f"""
CREATE FUNCTION {SCHEMA}.audit_checkpoint_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoint is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
""",
    f"""
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON {SCHEMA}.audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.audit_checkpoint_append_only()
""",
)


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("audit_entry_pkey")),
        sa.UniqueConstraint("seq", name=op.f("audit_entry_seq_key")),
        schema=SCHEMA,
    )
    for column in ("at", "action", "actor", "subject"):
        op.create_index(op.f(f"audit_entry_{column}_idx"), "audit_entry", [column], schema=SCHEMA)
    # The chainer's queue: the rows still waiting for their link.
    op.create_index(
        "audit_entry_unchained_idx",
        "audit_entry",
        ["id"],
        schema=SCHEMA,
        postgresql_where=sa.text("hash IS NULL"),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("chain_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("audit_checkpoint_pkey")),
        schema=SCHEMA,
    )
    op.create_index(op.f("audit_checkpoint_seq_idx"), "audit_checkpoint", ["seq"], schema=SCHEMA)
    for statement in (*ENTRY_GUARD, *CHECKPOINT_GUARD):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit_checkpoint", schema=SCHEMA)
    op.drop_table("audit_entry", schema=SCHEMA)
    op.execute(f"DROP FUNCTION {SCHEMA}.audit_checkpoint_append_only()")
    op.execute(f"DROP FUNCTION {SCHEMA}.audit_entry_append_only()")
