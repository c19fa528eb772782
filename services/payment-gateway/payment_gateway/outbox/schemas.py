"""What an outbox event carries to subscribers: the payment as it now is, in an envelope that
names the event and orders it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, Field

from payment_gateway.models import Payment, PaymentStatus
from shared.phone import mask_phone


class EventPayment(BaseModel):
    """A payment as event subscribers see it (and callers, through `PaymentOut`)."""

    id: uuid.UUID
    status: PaymentStatus
    amount: int
    phone: str = Field(description="Masked to the country code and the last 4 digits.")
    account_reference: str
    description: str
    metadata: dict[str, Any]
    environment: Literal["sandbox", "production"]
    checkout_request_id: str | None
    merchant_request_id: str | None
    result_code: str | None
    result_desc: str | None
    receipt_number: str | None
    reason: str | None = Field(description="A stable reason code; null while open or when paid.")
    customer_message: str = Field(description="What to tell the payer.")
    review_reason: str | None = Field(
        description="Set while the payment is held: a proven callback disagreed with what was "
        "asked (amount_mismatch, phone_mismatch). Cleared when Daraja proves the real outcome."
    )
    sequence: int = Field(description="Increases at every status change; events carry it too.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, payment: Payment) -> Self:
        return cls(
            id=payment.id,
            status=PaymentStatus(payment.status),
            amount=payment.amount,
            phone=mask_phone(payment.phone),
            account_reference=payment.account_reference,
            description=payment.description,
            metadata=payment.metadata_,
            environment=payment.environment,
            checkout_request_id=payment.checkout_request_id,
            merchant_request_id=payment.merchant_request_id,
            result_code=payment.result_code,
            result_desc=payment.result_desc,
            receipt_number=payment.receipt_number,
            reason=payment.reason,
            customer_message=payment.customer_message,
            review_reason=payment.review_reason,
            sequence=payment.sequence,
            created_at=payment.created_at,
            updated_at=payment.updated_at,
        )


class PaymentEventPayload(BaseModel):
    """The JSON body of one event, as stored in the outbox and sent to every subscriber."""

    id: str = Field(description="evt_<hex>, the webhook-id header too.")
    type: str = Field(description="payment.sent, payment.completed, payment.failed, ...")
    created_at: str = Field(description="ISO 8601 in UTC with a Z.")
    data: EventPayment
    sequence: int = Field(description="The payment's sequence: a newer event has a larger one.")
