"""API shapes of staff refunds."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from session_api.integrations.gateway import GatewayRefund
from session_api.payment.schemas import AttemptOut
from shared.schemas import MultilineText, StrictModel


class RefundIn(StrictModel):
    """Why staff refund this payment (paid twice, order cancelled, ...)."""

    reason: MultilineText = Field(
        min_length=1, max_length=1000, description="Kept on the refund and the payment's timeline."
    )


class RefundOut(BaseModel):
    """The payment's refund (asking again returns the same one) and the attempt it refunds."""

    id: str
    state: str = Field(
        description="requested (to be sent to M-Pesa), asked (waiting for M-Pesa's answer), "
        "refunded or failed."
    )
    amount: int
    receipt_number: str = Field(description="The M-Pesa receipt being reversed.")
    reason: str
    requested_by: str
    failure_reason: str | None = Field(description="Why M-Pesa did not refund it, when it failed.")
    reversal_transaction_id: str | None = Field(description="M-Pesa's id of the reversal.")
    created_at: datetime
    finished_at: datetime | None
    gateway_status: str = Field(description="refund_pending, refunded or refund_failed")
    attempt: AttemptOut

    @classmethod
    def of(cls, refund: GatewayRefund, attempt: AttemptOut) -> RefundOut:
        return cls(
            id=refund.id,
            state=refund.state,
            amount=refund.amount,
            receipt_number=refund.receipt_number,
            reason=refund.reason,
            requested_by=refund.requested_by,
            failure_reason=refund.failure_reason,
            reversal_transaction_id=refund.reversal_transaction_id,
            created_at=refund.created_at,
            finished_at=refund.finished_at,
            gateway_status=refund.payment.status.value,
            attempt=attempt,
        )
