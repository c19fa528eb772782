from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base, IdMixin
from shared.db import CreatedAtMixin


class Notification(IdMixin, CreatedAtMixin, Base):
    """An in-app message to one user."""

    __tablename__ = "notification"
    __table_args__ = (sa.Index(None, "user_id", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
