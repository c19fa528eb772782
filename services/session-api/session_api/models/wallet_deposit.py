from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base, IdMixin, str_enum
from session_api.models.payment_attempt import AttemptStatus
from shared.db import TimestampMixin, check_in


class WalletDeposit(IdMixin, TimestampMixin, Base):
    """A top-up of a wallet by M-Pesa; the payable of exactly one payment attempt."""

    __tablename__ = "wallet_deposit"
    __table_args__ = (
        check_in("status", AttemptStatus),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index(None, "wallet_id", "created_at"),
    )

    wallet_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wallet.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user_account.id"))
    amount: Mapped[int] = mapped_column(sa.Integer)
    phone_masked: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[AttemptStatus] = mapped_column(str_enum(AttemptStatus))
    reason: Mapped[str | None] = mapped_column(sa.String(64))
    attempt_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    receipt_number: Mapped[str | None] = mapped_column(sa.String(32))
    credited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
