"""API shapes of the callback receiver."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CallbackAck(BaseModel):
    """What Daraja gets once the callback is stored."""

    result_code: int = Field(default=0, serialization_alias="ResultCode")
    result_desc: str = Field(default="Accepted", serialization_alias="ResultDesc")
