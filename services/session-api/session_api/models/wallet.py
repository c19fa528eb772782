from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base, IdMixin
from shared.db import TimestampMixin


class Wallet(IdMixin, TimestampMixin, Base):
    """A user's KES balance. Changes only together with a ledger entry, in one transaction."""

    __tablename__ = "wallet"
    __table_args__ = (sa.CheckConstraint("balance >= 0", name="balance_not_negative"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    balance: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
