from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from shared.schemas import StrictModel


class EraseMeRequest(StrictModel):
    password: str = Field(max_length=128, description="Your current password.")


class ErasureOut(BaseModel):
    user_id: uuid.UUID
    erased_at: datetime
    payments_kept: int = Field(
        description="Payment attempts kept (ids, amounts, receipts, dates) with the phone erased."
    )
