"""API shapes of refunds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field

from payment_gateway.models import Payment, Refund, RefundState
from payment_gateway.payment.schemas import PaymentOut
from shared.schemas import MultilineText, StrictModel


class RefundCreate(StrictModel):
    """Why staff refund a completed payment (paid twice, order cancelled, ...)."""

    reason: MultilineText = Field(
        min_length=1, max_length=1000, description="Kept on the refund and the payment's timeline."
    )


class RefundOut(BaseModel):
    """A refund and the payment it refunds, as they stand now."""

    id: uuid.UUID
    state: RefundState = Field(
        description="requested (to be sent to M-Pesa), asked (waiting for M-Pesa's result), "
        "refunded or failed."
    )
    amount: int
    receipt_number: str = Field(description="The M-Pesa receipt being reversed.")
    reason: str
    requested_by: str
    attempts: int = Field(description="Reversal requests sent so far.")
    result_code: str | None
    result_desc: str | None
    failure_reason: str | None = Field(description="A stable reason code when the refund failed.")
    reversal_transaction_id: str | None = Field(description="M-Pesa's id of the reversal.")
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    payment: PaymentOut

    @classmethod
    def of(cls, refund: Refund, payment: Payment) -> Self:
        return cls(
            id=refund.id,
            state=RefundState(refund.state),
            amount=refund.amount,
            receipt_number=refund.receipt_number,
            reason=refund.reason,
            requested_by=refund.requested_by,
            attempts=refund.attempts,
            result_code=refund.result_code,
            result_desc=refund.result_desc,
            failure_reason=refund.failure_reason,
            reversal_transaction_id=refund.reversal_transaction_id,
            created_at=refund.created_at,
            updated_at=refund.updated_at,
            finished_at=refund.finished_at,
            payment=PaymentOut.of(payment),
        )
