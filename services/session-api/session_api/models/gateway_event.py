from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base, IdMixin, str_enum
from shared.db import CreatedAtMixin, check_in


class EventOutcome(StrEnum):
    applied = "applied"
    unchanged = "unchanged"
    stale = "stale"
    unmatched = "unmatched"
    # A sandbox payment reported while the platform takes real money: never credited.
    sandbox_refused = "sandbox_refused"


class GatewayEvent(IdMixin, CreatedAtMixin, Base):
    """The inbox of signed payment events from the gateway, one row per `webhook-id`."""

    __tablename__ = "gateway_event"
    __table_args__ = (check_in("outcome", EventOutcome), sa.Index(None, "gateway_payment_id"))

    webhook_id: Mapped[str] = mapped_column(sa.String(120), unique=True)
    event_type: Mapped[str] = mapped_column(sa.String(64))
    gateway_payment_id: Mapped[str] = mapped_column(sa.String(64))
    sequence: Mapped[int] = mapped_column(sa.BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    outcome: Mapped[EventOutcome | None] = mapped_column(str_enum(EventOutcome))
    processed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
