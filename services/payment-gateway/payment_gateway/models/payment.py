from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import TimestampMixin, check_in
from shared.phone import ERASED_PHONE_PATTERN


class PaymentStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    timeout = "timeout"
    # A completed payment staff refund through M-Pesa Reversal: asked, then Daraja's result.
    refund_pending = "refund_pending"
    refunded = "refunded"
    refund_failed = "refund_failed"


OPEN_STATUSES = (PaymentStatus.pending, PaymentStatus.sent)


class Payment(TimestampMixin, Base):
    """One STK Push payment: what was asked, what Daraja said, and where monitoring stands."""

    __tablename__ = "payment"
    __table_args__ = (
        check_in("status", PaymentStatus),
        CheckConstraint("amount > 0", name="amount_positive"),
        # A payer's phone, or after an erasure its keyed hash (`shared.phone.keyed_phone_hash`).
        CheckConstraint(
            f"phone ~ '^254[17][0-9]{{8}}$' OR phone ~ '{ERASED_PHONE_PATTERN}'",
            name="phone_format",
        ),
        check_in("environment", ("sandbox", "production")),
        CheckConstraint(
            "status <> 'completed' OR result_code IS NOT NULL", name="completed_has_result"
        ),
        # Daraja refuses a second prompt to a phone that has one open; so do we, atomically. A
        # payment held for review is not monitored any more and must not lock its payer out.
        Index(
            "payment_open_phone_key",
            "phone",
            unique=True,
            postgresql_where=text("status IN ('pending', 'sent') AND review_reason IS NULL"),
        ),
        Index(
            "payment_receipt_number_key",
            "receipt_number",
            unique=True,
            postgresql_where=text("receipt_number IS NOT NULL"),
        ),
        Index("payment_created_at_id_idx", "created_at", "id"),
        Index("payment_phone_amount_pushed_at_idx", "phone", "amount", "pushed_at"),
        # The staff console's stats roll an hour of payments up from this index alone.
        Index(
            "payment_console_stats_idx",
            "created_at",
            postgresql_include=["status", "amount", "reason", "pushed_at", "settled_at"],
        ),
        # What changed since the console's rollups were last refreshed.
        Index("payment_updated_at_idx", "updated_at"),
        Index(
            "payment_held_idx",
            "review_reason",
            postgresql_where=text("review_reason IS NOT NULL"),
        ),
        Index(
            "payment_open_next_check_idx",
            "status",
            "next_check_at",
            postgresql_where=text("status IN ('pending', 'sent')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    phone: Mapped[str] = mapped_column(String(69), nullable=False)
    account_reference: Mapped[str] = mapped_column(String(12), nullable=False)
    description: Mapped[str] = mapped_column(String(13), nullable=False)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    environment: Mapped[str] = mapped_column(String(16), nullable=False)
    checkout_request_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    merchant_request_id: Mapped[str | None] = mapped_column(String(64))
    result_code: Mapped[str | None] = mapped_column(String(32))
    result_desc: Mapped[str | None] = mapped_column(Text)
    receipt_number: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    customer_message: Mapped[str] = mapped_column(Text, nullable=False)
    review_reason: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    push_attempts: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    poll_step: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # When the next push retry or status query is due; a sweep re-enqueues what is overdue.
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
