from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import TimestampMixin, check_in


class RefundState(StrEnum):
    requested = "requested"  # to be sent to Daraja (first time, or again after a transient error)
    asked = "asked"  # Daraja accepted the Reversal; its result comes to the ResultURL
    refunded = "refunded"
    failed = "failed"


class Refund(TimestampMixin, Base):
    """The one refund of a completed payment, through M-Pesa Reversal: what staff asked, each
    request to Daraja (the ResultURL's secret names the latest), and Daraja's result."""

    __tablename__ = "refund"
    __table_args__ = (
        check_in("state", RefundState),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(
            "refund_open_next_attempt_idx",
            "next_attempt_at",
            postgresql_where=text("state IN ('requested', 'asked')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # One refund per payment: asking again answers with this one.
    payment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("payment.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    )
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=RefundState.requested)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    receipt_number: Mapped[str] = mapped_column(String(32), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # The hash of the latest request's ResultURL secret (each request gets a new one). A result
    # for an earlier request is refused; the later request answers for it (R000001, already
    # reversed, when the earlier one went through).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    originator_conversation_id: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    result_code: Mapped[str | None] = mapped_column(String(32))
    result_desc: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(String(64))
    # The Reversal's own M-Pesa transaction id.
    reversal_transaction_id: Mapped[str | None] = mapped_column(String(32))
    # When the refund must have moved on (the request sent, or its result arrived); a sweep
    # sends it again after that, which is safe: a repeat of a done Reversal answers R000001.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
