from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base


class PaymentSettleHour(Base):
    """How many completed payments created in one UTC hour took each whole number of seconds
    from the prompt to settling: the histogram the console's median and p95 come from."""

    __tablename__ = "payment_settle_hour"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    seconds: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
