from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import utcnow


class CallbackInbox(Base):
    """A Daraja STK callback exactly as received, stored before anything acts on it."""

    __tablename__ = "callback_inbox"
    __table_args__ = (
        CheckConstraint(
            "outcome IS NULL OR outcome IN "
            "('applied', 'duplicate', 'contradiction', 'held', 'invalid', 'ignored')",
            name="outcome",
        ),
        Index(
            "callback_inbox_unprocessed_idx",
            "received_at",
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("payment.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # The payment id and a hash of the body's canonical JSON: an identical resend collides here.
    dedupe_key: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    source_ip: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=utcnow
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
