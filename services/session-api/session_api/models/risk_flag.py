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


class RiskKind(StrEnum):
    failed_payments_on_phone = "failed_payments_on_phone"
    phones_per_account = "phones_per_account"
    accounts_per_phone = "accounts_per_phone"


class RiskFlag(IdMixin, TimestampMixin, Base):
    """Suspicious activity for staff to look at (nothing is blocked): one row per kind and
    subject (a phone's keyed hash, or an account id), brought up to date each time it is seen."""

    __tablename__ = "risk_flag"
    __table_args__ = (
        check_in("kind", RiskKind),
        sa.UniqueConstraint("kind", "subject"),
        sa.Index(None, "last_seen_at"),
    )

    kind: Mapped[RiskKind] = mapped_column(str_enum(RiskKind))
    # `phone:<keyed hash>` or `user:<id>`: never a phone number.
    subject: Mapped[str] = mapped_column(sa.String(80))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    count: Mapped[int] = mapped_column(sa.Integer)
    threshold: Mapped[int] = mapped_column(sa.Integer)
    window_hours: Mapped[int] = mapped_column(sa.Integer)
    # The accounts and masked phones involved, for staff.
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    last_seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
