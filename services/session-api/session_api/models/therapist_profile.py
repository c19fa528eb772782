from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base
from shared.db import TimestampMixin


class TherapistProfile(TimestampMixin, Base):
    __tablename__ = "therapist_profile"
    __table_args__ = (sa.CheckConstraint("session_rate > 0", name="session_rate_positive"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    session_rate: Mapped[int] = mapped_column(sa.Integer)
    bio: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # The PostgreSQL ARRAY type: only it has the containment operator the listing filters with.
    specialties: Mapped[list[str]] = mapped_column(
        postgresql.ARRAY(sa.String(60)), default=list, server_default="{}"
    )
    is_accepting_clients: Mapped[bool] = mapped_column(
        sa.Boolean, default=True, server_default=sa.true()
    )
