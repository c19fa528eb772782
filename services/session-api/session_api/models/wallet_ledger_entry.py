from __future__ import annotations

import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base, IdMixin, str_enum
from shared.db import CreatedAtMixin, check_in


class LedgerEntryKind(StrEnum):
    deposit = "deposit"
    # Money received for something that no longer needed it (paid twice, cancelled meanwhile):
    # kept for the customer instead of lost.
    unapplied_payment = "unapplied_payment"
    # A debit: money this wallet was credited with went back to the payer's M-Pesa (Reversal).
    refund = "refund"


class WalletLedgerEntry(IdMixin, CreatedAtMixin, Base):
    """Append-only: a database trigger refuses UPDATE and DELETE."""

    __tablename__ = "wallet_ledger_entry"
    __table_args__ = (
        check_in("kind", LedgerEntryKind),
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        sa.CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        sa.Index(None, "wallet_id", "created_at"),
    )

    wallet_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wallet.id", ondelete="RESTRICT"))
    kind: Mapped[LedgerEntryKind] = mapped_column(str_enum(LedgerEntryKind))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    # One entry per source event (for example `payment:<gateway payment id>`): a payment is
    # credited once however many times its event arrives.
    entry_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    description: Mapped[str] = mapped_column(sa.String(200))
    reference_type: Mapped[str | None] = mapped_column(sa.String(32))
    reference_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    receipt_number: Mapped[str | None] = mapped_column(sa.String(32))
