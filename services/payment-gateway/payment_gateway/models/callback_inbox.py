from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

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


class CallbackOutcome(StrEnum):
    """What processing a stored callback did."""

    applied = "applied"  # the payment changed
    duplicate = "duplicate"  # it repeats what the payment already shows
    contradiction = "contradiction"  # it disagrees with a final payment: kept, nothing changed
    held = "held"  # a proven callback disagrees with what was asked: the payment waits for staff
    invalid = "invalid"  # not an STK callback
    ignored = "ignored"  # nothing changed (its verdict says why)
    flagged = "flagged"  # its receipt is another payment's: for staff
    error = "error"  # processing failed on every attempt: for staff


class CallbackVerdict(StrEnum):
    """How far a callback was believed. Daraja signs nothing, so a callback that claims money
    needs a proof beyond its URL."""

    allow_listed = "allow_listed"  # it came from GATEWAY_CALLBACK_ALLOWED_CIDRS
    unchecked = "unchecked"  # believed on its URL: a failure, or confirmation is turned off
    confirmed = "confirmed"  # STK Query gives the same final answer
    unverified = "unverified"  # it claims money but could not be checked
    refuted = "refuted"  # STK Query gives another final answer
    mismatch = "mismatch"  # Daraja proves the payment, but not the callback's amount, phone or push
    duplicate_receipt = "duplicate_receipt"  # its receipt is already another payment's


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IS NULL OR {column} IN ({', '.join(repr(str(v)) for v in values)})"


class CallbackInbox(Base):
    """A Daraja STK callback exactly as received, stored before anything acts on it."""

    __tablename__ = "callback_inbox"
    __table_args__ = (
        CheckConstraint(_one_of("outcome", CallbackOutcome), name="outcome"),
        CheckConstraint(_one_of("verdict", CallbackVerdict), name="verdict"),
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
    verdict: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # Identical copies received after this one (Daraja resends): kept for the staff timeline.
    resends: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
