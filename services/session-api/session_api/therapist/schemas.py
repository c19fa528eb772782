from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from session_api.validation import Email, KenyanPhone, PaymentKes
from shared.schemas import MultilineText, StrictModel, Text


def tidy_specialties(value: list[str]) -> list[str]:
    tidy = [item.strip().lower() for item in value]
    if any(not item or len(item) > 60 for item in tidy):
        raise ValueError("each specialty is 1 to 60 characters")
    return sorted(set(tidy))


class TherapistOut(BaseModel):
    id: uuid.UUID
    full_name: str
    bio: str
    specialties: list[str]
    session_rate: int = Field(description="Price of one session in whole KES.")
    currency: Literal["KES"] = "KES"
    is_accepting_clients: bool

    @model_validator(mode="before")
    @classmethod
    def _from_rows(cls, value: Any) -> Any:
        """A therapist's `(User, TherapistProfile)` rows."""
        if not isinstance(value, tuple):
            return value
        user, profile = value
        return {
            "id": user.id,
            "full_name": user.full_name,
            "email": user.email,
            "bio": profile.bio,
            "specialties": profile.specialties,
            "session_rate": profile.session_rate,
            "is_accepting_clients": profile.is_accepting_clients,
        }


class TherapistCreate(StrictModel):
    email: Email
    password: str = Field(min_length=8, max_length=128)
    full_name: Text = Field(min_length=1, max_length=120)
    phone: KenyanPhone | None = None
    session_rate: PaymentKes
    bio: MultilineText = Field(default="", max_length=2000)
    specialties: list[Text] = Field(default_factory=list, max_length=20)

    @field_validator("specialties")
    @classmethod
    def _tidy(cls, value: list[str]) -> list[str]:
        return tidy_specialties(value)


class TherapistAccount(TherapistOut):
    """What an admin gets back on creating a therapist."""

    email: str


class TherapistUpdate(StrictModel):
    """Only the fields given change."""

    session_rate: PaymentKes | None = None
    bio: MultilineText | None = Field(default=None, max_length=2000)
    specialties: list[Text] | None = Field(default=None, max_length=20)
    is_accepting_clients: bool | None = None

    @field_validator("specialties")
    @classmethod
    def _tidy(cls, value: list[str] | None) -> list[str] | None:
        return tidy_specialties(value) if value is not None else None
