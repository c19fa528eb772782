from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base, IdMixin, str_enum
from shared.db import TimestampMixin, check_in


class Channel(StrEnum):
    email = "email"
    sms = "sms"


class DeliveryStatus(StrEnum):
    queued = "queued"
    # Claimed by a worker that is talking to the provider; a crash leaves it here (see the sweep).
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    failed = "failed"


class NotificationDelivery(IdMixin, TimestampMixin, Base):
    """The outbox of email and SMS: one row per (event, recipient, channel), written in the
    transaction of the change it announces, its content rendered then."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        check_in("channel", Channel),
        check_in("status", DeliveryStatus),
        sa.UniqueConstraint("event_key", "user_id", "channel"),
        sa.Index(None, "status", "next_attempt_at"),
        sa.Index(None, "provider_message_id"),
    )

    event_key: Mapped[str] = mapped_column(sa.String(160))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    kind: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(sa.String(254))
    # What to say (`notification.content.Message`); rendered into subject, text and html by the
    # worker that sends it, which keeps what it sent.
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    subject: Mapped[str | None] = mapped_column(sa.String(300))
    text: Mapped[str | None] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    # The paid attempt whose PDF receipt goes with the email.
    receipt_attempt_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    # RFC 5322 Message-ID, fixed when the row is written, so a resend is recognisably the same.
    message_id: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(120))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
