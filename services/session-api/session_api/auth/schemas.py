from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from session_api.validation import Email, KenyanPhone
from shared.schemas import StrictModel, Text


class RegisterRequest(StrictModel):
    email: Email
    password: str = Field(min_length=8, max_length=128)
    full_name: Text = Field(min_length=1, max_length=120)
    phone: KenyanPhone | None = None


class ProfileUpdate(StrictModel):
    """The fields given are changed; `phone: null` forgets the M-Pesa number."""

    full_name: Text | None = Field(default=None, min_length=1, max_length=120)
    phone: KenyanPhone | None = None


class LoginRequest(StrictModel):
    email: Text = Field(max_length=254)
    password: str = Field(max_length=128)


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(description="Seconds until the token expires.")
