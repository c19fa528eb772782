from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from session_api.models.base import Base, IdMixin, str_enum
from session_api.models.payment_attempt import PayableStatus
from session_api.models.user import User
from shared.db import TimestampMixin, check_in


class BookingStatus(StrEnum):
    pending_approval = "pending_approval"
    approved = "approved"
    confirmed = "confirmed"
    declined = "declined"
    cancelled = "cancelled"


class SessionType(StrEnum):
    individual = "individual"
    couples = "couples"
    family = "family"
    group = "group"


class Booking(IdMixin, TimestampMixin, Base):
    """A therapy session a client booked with a therapist; the payable of a session payment."""

    __tablename__ = "booking"
    __table_args__ = (
        check_in("status", BookingStatus),
        check_in("session_type", SessionType),
        check_in("payment_status", PayableStatus),
        sa.CheckConstraint("price > 0", name="price_positive"),
        sa.Index(None, "therapist_id", "scheduled_at"),
        sa.Index(None, "client_id", "scheduled_at"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user_account.id"))
    therapist_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user_account.id"))
    session_type: Mapped[SessionType] = mapped_column(str_enum(SessionType))
    scheduled_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    duration_minutes: Mapped[int] = mapped_column(sa.Integer)
    price: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus))
    notes: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    declined_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # What the latest payment attempt says, kept here so lists filter and show it cheaply.
    payment_status: Mapped[PayableStatus] = mapped_column(
        str_enum(PayableStatus), default=PayableStatus.unpaid, server_default="unpaid"
    )
    payment_reason: Mapped[str | None] = mapped_column(sa.String(64))
    last_attempt_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    receipt_number: Mapped[str | None] = mapped_column(sa.String(32))
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reminders_sent: Mapped[list[int]] = mapped_column(
        sa.ARRAY(sa.Integer), default=list, server_default="{}"
    )

    client: Mapped[User] = relationship(foreign_keys=[client_id], lazy="raise")
    therapist: Mapped[User] = relationship(foreign_keys=[therapist_id], lazy="raise")
