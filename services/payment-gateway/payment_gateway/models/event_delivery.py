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
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from shared.db import TimestampMixin


class DeliveryStatus:
    pending = "pending"
    delivered = "delivered"
    abandoned = "abandoned"


class EventDelivery(TimestampMixin, Base):
    """One outbox event on its way to one subscriber."""

    __tablename__ = "event_delivery"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'abandoned')", name="status"),
        UniqueConstraint("event_id", "endpoint_url", name="event_delivery_event_id_endpoint_key"),
        Index("event_delivery_stream_idx", "payment_id", "endpoint_url", "sequence"),
        Index(
            "event_delivery_due_idx",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("outbox_event.id", ondelete="CASCADE"), nullable=False
    )
    # Copied from the event so "is an earlier event of this payment still on its way?" is one
    # index lookup.
    payment_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    endpoint_url: Mapped[str] = mapped_column(String(2048), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # A sender holds the delivery until then, so two jobs never post the same event at once.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
