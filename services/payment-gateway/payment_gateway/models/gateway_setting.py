from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from payment_gateway.models.base import Base
from payment_gateway.models.daraja_credential import DarajaEnvironment
from shared.db import TimestampMixin, check_in


class GatewaySetting(TimestampMixin, Base):
    """The gateway's settings changed at run time: one row (id 1), absent until the first
    change. Every process reads it again within `GATEWAY_CREDENTIALS_CACHE_TTL_S`."""

    __tablename__ = "gateway_setting"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        check_in("daraja_environment", DarajaEnvironment),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    daraja_environment: Mapped[str] = mapped_column(String(16), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False)
