from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base, IdMixin


class OrderItem(IdMixin, Base):
    """One line of an order, with the product's name and price as they were at order time."""

    __tablename__ = "order_item"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price > 0", name="unit_price_positive"),
        sa.CheckConstraint("line_total = unit_price * quantity", name="line_total_adds_up"),
        sa.UniqueConstraint("order_id", "position"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("customer_order.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(sa.Integer)
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("product.id"))
    product_name: Mapped[str] = mapped_column(sa.String(120))
    unit_price: Mapped[int] = mapped_column(sa.Integer)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    line_total: Mapped[int] = mapped_column(sa.Integer)
