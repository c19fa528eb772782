from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base, IdMixin, str_enum
from shared.db import TimestampMixin, check_in


class PayableType(StrEnum):
    booking = "booking"
    order = "order"
    deposit = "deposit"

    def account_reference(self, payable_id: uuid.UUID) -> str:
        """The M-Pesa account reference of a payable: its kind's prefix and its id (12 chars)."""
        return f"{_REFERENCE_PREFIXES[self]}{payable_id.hex[:10].upper()}"


_REFERENCE_PREFIXES = {
    PayableType.booking: "BK",
    PayableType.order: "OR",
    PayableType.deposit: "WL",
}


class AttemptStatus(StrEnum):
    processing = "processing"
    paid = "paid"
    failed = "failed"
    cancelled = "cancelled"
    timeout = "timeout"
    # Paid, then given back through M-Pesa Reversal by staff.
    refunded = "refunded"

    @property
    def is_final(self) -> bool:
        return self is not AttemptStatus.processing

    @property
    def allows_retry(self) -> bool:
        return self in (AttemptStatus.failed, AttemptStatus.cancelled, AttemptStatus.timeout)


class PayableStatus(StrEnum):
    """A payable's payment as its latest attempt tells it (``unpaid`` before any attempt)."""

    unpaid = "unpaid"
    processing = "processing"
    paid = "paid"
    failed = "failed"
    cancelled = "cancelled"
    timeout = "timeout"
    refunded = "refunded"


class PaymentAttempt(IdMixin, TimestampMixin, Base):
    """One request to the gateway to pay a payable. A payable may have several, one at a time."""

    __tablename__ = "payment_attempt"
    __table_args__ = (
        check_in("payable_type", PayableType),
        check_in("status", AttemptStatus),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("attempt_number > 0", name="attempt_number_positive"),
        sa.UniqueConstraint("payable_type", "payable_id", "attempt_number"),
        sa.Index(None, "user_id", "created_at"),
        sa.Index(None, "status", "updated_at"),
        sa.Index(None, "phone_hash", "created_at"),
        # The staff console lists every attempt newest first, keyset-paginated.
        sa.Index("payment_attempt_created_at_id_idx", "created_at", "id"),
        sa.Index("payment_attempt_payable_id_idx", "payable_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user_account.id"))
    payable_type: Mapped[PayableType] = mapped_column(str_enum(PayableType))
    payable_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    attempt_number: Mapped[int] = mapped_column(sa.Integer)
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    gateway_payment_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    amount: Mapped[int] = mapped_column(sa.Integer)
    phone_masked: Mapped[str] = mapped_column(sa.String(20))
    # The phone's keyed hash (`shared.phone.keyed_phone_hash`, PHONE_HASH_KEY): what the
    # suspicious-activity checks (`risk`) compare; None for an attempt adopted from an event.
    phone_hash: Mapped[str | None] = mapped_column(sa.String(69))
    status: Mapped[AttemptStatus] = mapped_column(str_enum(AttemptStatus))
    gateway_status: Mapped[str] = mapped_column(sa.String(32))
    customer_message: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.String(64))
    result_code: Mapped[str | None] = mapped_column(sa.String(32))
    result_desc: Mapped[str | None] = mapped_column(sa.Text)
    receipt_number: Mapped[str | None] = mapped_column(sa.String(32))
    checkout_request_id: Mapped[str | None] = mapped_column(sa.String(64))
    # Set while the gateway holds the payment for review (amount_mismatch, phone_mismatch): the
    # attempt waits for a staff decision, not for M-Pesa, so the read-back job skips it.
    review_reason: Mapped[str | None] = mapped_column(sa.String(64))
    # The gateway's Daraja environment (sandbox, production), for the staff console's filter.
    environment: Mapped[str | None] = mapped_column(sa.String(16))
    # The highest gateway event sequence applied; older events are stale.
    last_event_sequence: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    # Bumped on every status change so stream subscribers can drop out-of-order messages.
    version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
