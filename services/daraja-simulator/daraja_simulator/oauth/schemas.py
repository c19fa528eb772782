from __future__ import annotations

from pydantic import BaseModel


class AccessToken(BaseModel):
    """Daraja's token answer; `expires_in` is the string "3599" unless configured as a number."""

    access_token: str
    expires_in: str | int
