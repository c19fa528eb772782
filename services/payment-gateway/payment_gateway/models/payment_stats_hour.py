from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base


class PaymentStatsHour(Base):
    """Payments created in one UTC hour, counted by status and reason: the staff console's
    stats add these up instead of scanning every payment. Rebuilt per hour whenever a payment of
    that hour changes (see `console.repository.refresh_rollup`)."""

    __tablename__ = "payment_stats_hour"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    # '' for none: a primary key column cannot be NULL.
    reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
