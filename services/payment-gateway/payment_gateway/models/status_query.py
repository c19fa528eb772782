from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import CreatedAtMixin, check_in


class StatusQueryState(StrEnum):
    asked = "asked"  # Daraja accepted it; the result has not arrived
    answered = "answered"  # the result arrived (found or not)
    timed_out = "timed_out"  # it arrived at the QueueTimeOutURL: to be asked again
    refused = "refused"  # Daraja refused to take it


class StatusQuery(CreatedAtMixin, Base):
    """One Transaction Status request a run made about a payment; its result arrives later at
    the ResultURL (through `result_inbox`) and is matched back by the URL's token."""

    __tablename__ = "status_query"
    __table_args__ = (
        check_in("state", StatusQueryState),
        Index("status_query_run_state_idx", "run_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("reconciliation_run.id", ondelete="CASCADE"), nullable=False
    )
    payment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("payment.id", ondelete="CASCADE"), nullable=False
    )
    # Only the hash of the ResultURL's secret is kept.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    receipt: Mapped[str | None] = mapped_column(String(32))
    checkout_request_id: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=StatusQueryState.asked)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    result_code: Mapped[str | None] = mapped_column(String(32))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
