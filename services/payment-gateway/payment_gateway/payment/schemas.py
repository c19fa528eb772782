"""API shapes of the payments domain."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

from payment_gateway.models import PaymentEvent, PaymentStatus
from payment_gateway.outbox.schemas import EventPayment
from shared.phone import normalise_phone
from shared.schemas import SettingLimits, StrictModel

SAFE_CHARACTERS = "letters, digits, spaces and . _ -"
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9 ._\-]+$")
METADATA_MAX_KEYS = 20
METADATA_MAX_BYTES = 2048


def _safe_text(value: Any, *, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string of 1 to {limit} {SAFE_CHARACTERS}")
    text = value.strip()
    if not text or len(text) > limit or not _SAFE_TEXT.match(text):
        raise ValueError(
            f"must be 1 to {limit} characters of {SAFE_CHARACTERS} (got {len(text)} characters"
            f"{'' if _SAFE_TEXT.match(text or 'x') else ' including others'})"
        )
    return text


class PaymentCreate(StrictModel):
    """What a caller asks for: who pays how much, and what the prompt says."""

    amount: Annotated[int, SettingLimits("AMOUNT_MIN", "AMOUNT_MAX")] = Field(
        description="Whole KES, within the configured limits."
    )
    phone: str = Field(
        description="07XXXXXXXX, 01XXXXXXXX, 2547XXXXXXXX, 2541XXXXXXXX or +254...; spaces and "
        "dashes allowed. Stored as 254XXXXXXXXX.",
        examples=["0712 345 678"],
    )
    account_reference: str = Field(description=f"1 to 12 {SAFE_CHARACTERS}; shown on the prompt.")
    description: str = Field(description=f"1 to 13 {SAFE_CHARACTERS}.")
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description=f"A JSON object of at most {METADATA_MAX_KEYS} keys and "
        f"{METADATA_MAX_BYTES} bytes, returned as given.",
    )

    @field_validator("amount", mode="before")
    @classmethod
    def _whole_kes(cls, value: Any) -> int:
        # Daraja refuses "1.00"; a float or a numeric string here is a caller bug worth naming.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number of KES given as a JSON integer, e.g. 1500")
        return value

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("must be a string: a Kenyan mobile number such as 0712345678")
        return normalise_phone(value)

    @field_validator("account_reference", mode="before")
    @classmethod
    def _reference(cls, value: Any) -> str:
        return _safe_text(value, limit=12)

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: Any) -> str:
        return _safe_text(value, limit=13)

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError("must be a JSON object (or omitted)")
        if len(value) > METADATA_MAX_KEYS:
            raise ValueError(f"may hold at most {METADATA_MAX_KEYS} keys, got {len(value)}")
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
        if size > METADATA_MAX_BYTES:
            raise ValueError(f"may be at most {METADATA_MAX_BYTES} bytes as JSON, got {size}")
        return value


class PaymentOut(EventPayment):
    """A payment as callers see it: the shape events carry, so callers and subscribers read one
    payment the same way."""


class PaymentPage(BaseModel):
    items: list[PaymentOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class PaymentEventOut(BaseModel):
    """One entry of a payment's timeline."""

    from_status: PaymentStatus | None
    to_status: PaymentStatus
    reason: str | None
    source: str = Field(description="api, callback, query, reconciliation, admin or system")
    actor: str
    detail: dict[str, Any]
    note: str | None = Field(default=None, description="What the person acting wrote (staff).")
    at: datetime

    @classmethod
    def of(cls, event: PaymentEvent) -> PaymentEventOut:
        return cls(
            from_status=PaymentStatus(event.from_status) if event.from_status else None,
            to_status=PaymentStatus(event.to_status),
            reason=event.reason,
            source=event.source,
            actor=event.actor,
            detail=event.detail,
            note=event.note,
            at=event.at,
        )
