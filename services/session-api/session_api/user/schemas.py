from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from session_api.models import UserRole


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    phone: str | None
    role: UserRole
    created_at: datetime


class UserSummary(BaseModel):
    """Who is on the other side of a booking or payment."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    full_name: str
