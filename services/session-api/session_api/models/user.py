from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from session_api.models.base import Base, IdMixin, str_enum
from shared.db import TimestampMixin, check_in


class UserRole(StrEnum):
    client = "client"
    therapist = "therapist"
    staff = "staff"
    admin = "admin"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (check_in("role", UserRole),)

    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    full_name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str | None] = mapped_column(sa.String(12))
    role: Mapped[UserRole] = mapped_column(str_enum(UserRole))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    # Set by an erasure (`privacy`), which blanks everything else that names the person; the phone
    # is kept only as its keyed hash (`shared.phone.keyed_phone_hash`).
    erased_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    phone_hash: Mapped[str | None] = mapped_column(sa.String(69))
