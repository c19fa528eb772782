from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import CreatedAtMixin


class OutboxEvent(CreatedAtMixin, Base):
    """An event for subscribers, written in the transaction that made the change."""

    __tablename__ = "outbox_event"
    __table_args__ = (
        UniqueConstraint("payment_id", "sequence", name="outbox_event_payment_id_sequence_key"),
    )

    # Sent as `webhook-id` (with an `evt_` prefix): the same for every retry.
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # None for an event about something other than one payment (reconciliation.completed).
    payment_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("payment.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
