from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base
from shared.db import TimestampMixin, check_in

PAYMENT_ENVIRONMENTS = ("sandbox", "production")


class PlatformSetting(TimestampMixin, Base):
    """What session-api keeps of the gateway's active Daraja environment, written when an admin
    switches it (and brought in line whenever an admin reads the settings): one row, id 1.
    Absent, the platform is in sandbox. Event handling reads it without calling the gateway."""

    __tablename__ = "platform_setting"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        check_in("payment_environment", PAYMENT_ENVIRONMENTS),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, default=1)
    payment_environment: Mapped[str] = mapped_column(sa.String(16))
    # The shortcode payers pay to by hand in that environment, as the gateway reported it.
    paybill_number: Mapped[str | None] = mapped_column(sa.String(16))
    updated_by: Mapped[str] = mapped_column(sa.String(64))
