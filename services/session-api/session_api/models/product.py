from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base, IdMixin
from shared.db import TimestampMixin


class Product(IdMixin, TimestampMixin, Base):
    __tablename__ = "product"
    __table_args__ = (sa.CheckConstraint("price > 0", name="price_positive"),)

    sku: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    price: Mapped[int] = mapped_column(sa.Integer)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
