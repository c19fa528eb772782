from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from session_api.models.base import Base, IdMixin, str_enum
from session_api.models.order_item import OrderItem
from session_api.models.payment_attempt import PayableStatus
from shared.db import TimestampMixin, check_in


class OrderStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    processing = "processing"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"
    # Paid, then refunded by staff (paid twice, cancelled after payment, ...).
    refunded = "refunded"


class Order(IdMixin, TimestampMixin, Base):
    """A shop order: prices captured when it was placed, paid once through the gateway."""

    __tablename__ = "customer_order"
    __table_args__ = (
        check_in("status", OrderStatus),
        check_in("payment_status", PayableStatus),
        sa.CheckConstraint("subtotal > 0", name="subtotal_positive"),
        sa.CheckConstraint("delivery_fee >= 0", name="delivery_fee_not_negative"),
        sa.CheckConstraint("total = subtotal + delivery_fee", name="total_adds_up"),
        sa.Index(None, "user_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user_account.id"))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus))
    subtotal: Mapped[int] = mapped_column(sa.Integer)
    delivery_fee: Mapped[int] = mapped_column(sa.Integer)
    total: Mapped[int] = mapped_column(sa.Integer)
    delivery: Mapped[dict[str, Any]] = mapped_column(JSONB)
    customer: Mapped[dict[str, Any]] = mapped_column(JSONB)
    payment_status: Mapped[PayableStatus] = mapped_column(
        str_enum(PayableStatus), default=PayableStatus.unpaid, server_default="unpaid"
    )
    payment_reason: Mapped[str | None] = mapped_column(sa.String(64))
    last_attempt_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    receipt_number: Mapped[str | None] = mapped_column(sa.String(32))
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    items: Mapped[list[OrderItem]] = relationship(
        order_by=OrderItem.position, lazy="raise", cascade="all, delete-orphan"
    )
