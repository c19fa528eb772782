from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from payment_gateway.models.reconciliation_item import Verdict
from shared.db import CreatedAtMixin, check_in


class ExceptionStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class ResolveAction(StrEnum):
    attach_to_payment = "attach_to_payment"
    accept = "accept"
    refund_needed = "refund_needed"
    ignore = "ignore"


class ReconciliationException(CreatedAtMixin, Base):
    """A verdict that needs a person. One open exception per subject (the verdict and the
    receipt or payment it is about), however many runs see the same discrepancy."""

    __tablename__ = "reconciliation_exception"
    __table_args__ = (
        check_in("status", ExceptionStatus),
        check_in("verdict", Verdict),
        Index(
            "reconciliation_exception_open_subject_key",
            "subject",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("reconciliation_exception_status_idx", "status", "created_at"),
        Index(
            "reconciliation_exception_payment_id_idx",
            "payment_id",
            postgresql_where=text("payment_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    subject: Mapped[str] = mapped_column(String(128), nullable=False)
    run_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("reconciliation_run.id", ondelete="CASCADE"), nullable=False
    )
    # The verdict that opened it, written in the same transaction. Not a foreign key (verdicts
    # are never deleted; a per-row check would lock every verdict a bulk run writes).
    item_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    verdict: Mapped[str] = mapped_column(String(24), nullable=False)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    receipt: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ExceptionStatus.open)
    action: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
