"""callback verdicts: each stored callback records how far it was believed (allow-listed,
confirmed by STK Query, unverified, refuted, ...), and processing can end flagged (a receipt
already on another payment) or in error (every attempt failed)

Revision ID: 0004_gateway_callback_verdicts
Revises: 0003_gateway_held_frees_phone
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_gateway_callback_verdicts"
down_revision: str | None = "0003_gateway_held_frees_phone"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES_BEFORE = ("applied", "duplicate", "contradiction", "held", "invalid", "ignored")
OUTCOMES = (*OUTCOMES_BEFORE, "flagged", "error")
VERDICTS = (
    "allow_listed",
    "unchecked",
    "confirmed",
    "unverified",
    "refuted",
    "mismatch",
    "duplicate_receipt",
)


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IS NULL OR {column} IN ({', '.join(repr(v) for v in values)})"


def _outcome_check(values: Sequence[str]) -> None:
    op.drop_constraint(op.f("callback_inbox_outcome_check"), "callback_inbox", schema="gateway")
    op.create_check_constraint(
        op.f("callback_inbox_outcome_check"),
        "callback_inbox",
        _one_of("outcome", values),
        schema="gateway",
    )


def upgrade() -> None:
    op.add_column(
        "callback_inbox",
        sa.Column("verdict", sa.String(length=24), nullable=True),
        schema="gateway",
    )
    op.create_check_constraint(
        op.f("callback_inbox_verdict_check"),
        "callback_inbox",
        _one_of("verdict", VERDICTS),
        schema="gateway",
    )
    _outcome_check(OUTCOMES)


def downgrade() -> None:
    op.execute(
        "UPDATE gateway.callback_inbox SET outcome = 'ignored' "
        "WHERE outcome IN ('flagged', 'error')"
    )
    _outcome_check(OUTCOMES_BEFORE)
    op.drop_constraint(op.f("callback_inbox_verdict_check"), "callback_inbox", schema="gateway")
    op.drop_column("callback_inbox", "verdict", schema="gateway")
