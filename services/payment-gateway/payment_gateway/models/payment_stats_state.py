from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base


class PaymentStatsState(Base):
    """One row: payments updated before `refreshed_through` are counted in the hourly rollups."""

    __tablename__ = "payment_stats_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    refreshed_through: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
