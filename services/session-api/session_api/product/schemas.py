from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku: str
    name: str
    description: str
    price: int
    currency: Literal["KES"] = "KES"
