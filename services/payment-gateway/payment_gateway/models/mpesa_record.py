from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from payment_gateway.models.reconciliation_run import RecordSource
from shared.db import CreatedAtMixin, check_in


class MpesaRecord(CreatedAtMixin, Base):
    """One transaction as M-Pesa reports it through one source: a statement line, a Pull row,
    a C2B confirmation, a Transaction Status result, or an STK Query answer (which carries no
    receipt and belongs to the run that asked). One row per receipt per source."""

    __tablename__ = "mpesa_record"
    __table_args__ = (
        check_in("source", RecordSource),
        Index(
            "mpesa_record_source_receipt_key",
            "source",
            "receipt",
            unique=True,
            postgresql_where=text("receipt IS NOT NULL"),
        ),
        Index(
            "mpesa_record_run_checkout_key",
            "run_id",
            "source",
            "checkout_request_id",
            unique=True,
            postgresql_where=text("receipt IS NULL"),
        ),
        Index("mpesa_record_completed_at_idx", "completed_at"),
        Index("mpesa_record_receipt_idx", "receipt"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(24), nullable=False)
    receipt: Mapped[str | None] = mapped_column(String(32))
    shortcode: Mapped[str] = mapped_column(String(16), nullable=False)
    # "completed", or M-Pesa's word for a transaction that moved no money ("failed", ...).
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    result_code: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[int | None] = mapped_column(Integer)
    # Only the last three digits are compared: statements and C2B mask the rest.
    phone_tail: Mapped[str | None] = mapped_column(String(3))
    account_reference: Mapped[str | None] = mapped_column(String(64))
    checkout_request_id: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("reconciliation_run.id", ondelete="CASCADE")
    )
    statement_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("statement_import.id", ondelete="SET NULL")
    )
    raw: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
