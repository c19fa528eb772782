from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from session_api.models import Booking, BookingStatus, PayableStatus, SessionType
from session_api.user.schemas import UserSummary
from shared.schemas import AwareTimestamp, MultilineText, StrictModel


class BookingCreate(StrictModel):
    therapist_id: uuid.UUID
    scheduled_at: AwareTimestamp = Field(description="Start time with a UTC offset, in the future.")
    session_type: SessionType = SessionType.individual
    notes: MultilineText = Field(default="", max_length=2000)


class BookingDecline(StrictModel):
    reason: MultilineText = Field(default="", max_length=500)


class BookingPayment(BaseModel):
    """The booking's payment as both the client and the therapist see it."""

    status: PayableStatus
    receipt_number: str | None
    paid_at: datetime | None
    reason: str | None
    last_attempt_id: uuid.UUID | None


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client: UserSummary
    therapist: UserSummary
    session_type: SessionType
    scheduled_at: datetime
    duration_minutes: int
    price: int
    currency: Literal["KES"] = "KES"
    status: BookingStatus
    notes: str
    decline_reason: str | None
    approved_at: datetime | None
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    payment: BookingPayment
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_booking(cls, value: Any) -> Any:
        """A Booking row: its payment columns become `payment`."""
        if not isinstance(value, Booking):
            return value
        payment = BookingPayment(
            status=value.payment_status,
            receipt_number=value.receipt_number,
            paid_at=value.paid_at,
            reason=value.payment_reason,
            last_attempt_id=value.last_attempt_id,
        )
        return {
            **{
                name: getattr(value, name)
                for name in cls.model_fields
                if name not in ("payment", "currency")
            },
            "client": UserSummary.model_validate(value.client),
            "therapist": UserSummary.model_validate(value.therapist),
            "payment": payment,
        }
