from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import TimestampMixin, check_in


class RunStatus(StrEnum):
    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"


class RecordSource(StrEnum):
    """Where a piece of M-Pesa's truth came from."""

    stk_query = "stk_query"
    transaction_status = "transaction_status"
    pull = "pull"
    statement = "statement"
    c2b = "c2b"


class ReconciliationRun(TimestampMixin, Base):
    """One comparison of our payments with M-Pesa's records over `[window_start, window_end)`
    for a shortcode and a set of sources; `run_key` makes a second request for the same window
    answer with this run."""

    __tablename__ = "reconciliation_run"
    __table_args__ = (
        check_in("status", RunStatus),
        CheckConstraint("window_start < window_end", name="window_order"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    run_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    shortcode: Mapped[str] = mapped_column(String(16), nullable=False)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sources: Mapped[list[str]] = mapped_column(ARRAY(String(24)), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=RunStatus.queued)
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    # Where a restarted run resumes: {"phase": ..., "after": ...}; written in the transaction
    # that applied the batch before it, so nothing is applied twice.
    checkpoint: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
    summary: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
    # What each source said (records fetched, errors), for staff and the report.
    source_results: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
