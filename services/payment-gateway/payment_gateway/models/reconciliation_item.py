from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import CreatedAtMixin, check_in


class Verdict(StrEnum):
    matched = "matched"
    settled_late = "settled_late"
    matched_by_reference = "matched_by_reference"
    missing_in_mpesa = "missing_in_mpesa"
    unmatched_mpesa = "unmatched_mpesa"
    amount_mismatch = "amount_mismatch"
    duplicate_receipt = "duplicate_receipt"
    paid_twice = "paid_twice"


# Verdicts that settle themselves; every other one opens an exception for a person.
SELF_SETTLING = frozenset({Verdict.matched, Verdict.settled_late, Verdict.matched_by_reference})


class ReconciliationItem(CreatedAtMixin, Base):
    """One verdict of a run, about a payment, an M-Pesa receipt, or both. Each payment and each
    receipt gets at most one verdict per run (the unique keys), which is also what makes a
    resumed run unable to judge, or apply, anything twice."""

    __tablename__ = "reconciliation_item"
    __table_args__ = (
        check_in("verdict", Verdict),
        Index(
            "reconciliation_item_run_payment_key",
            "run_id",
            "payment_id",
            unique=True,
            postgresql_where=text("payment_id IS NOT NULL"),
        ),
        Index(
            "reconciliation_item_run_receipt_key",
            "run_id",
            "receipt",
            unique=True,
            postgresql_where=text("receipt IS NOT NULL"),
        ),
        Index("reconciliation_item_run_verdict_idx", "run_id", "verdict", "id"),
        Index(
            "reconciliation_item_payment_id_idx",
            "payment_id",
            "id",
            postgresql_where=text("payment_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("reconciliation_run.id", ondelete="CASCADE"), nullable=False
    )
    verdict: Mapped[str] = mapped_column(String(24), nullable=False)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("payment.id", ondelete="SET NULL")
    )
    # The other payment of a duplicate receipt or a payable paid twice.
    related_payment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    receipt: Mapped[str | None] = mapped_column(String(32))
    # The record that spoke for the receipt. Not a foreign key: records are never deleted, and
    # a run writes this from the statement that read the record (a per-row check would lock
    # every record a million-line run judges).
    record_id: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str | None] = mapped_column(String(24))
    amount: Mapped[int | None] = mapped_column(Integer)
    mpesa_amount: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
