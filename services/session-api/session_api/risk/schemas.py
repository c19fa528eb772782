from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from session_api.models import RiskKind


class RiskFlagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: RiskKind
    subject: str = Field(description="`phone:<keyed hash>` or `user:<account id>`.")
    user_id: uuid.UUID | None = Field(description="The account, for `phones_per_account`.")
    count: int = Field(description="What was counted over the window when last seen.")
    threshold: int
    window_hours: int
    detail: dict[str, Any] = Field(
        description="`user_ids` and `phones` (masked) involved, `statuses` for failures."
    )
    created_at: datetime = Field(description="First seen.")
    last_seen_at: datetime
