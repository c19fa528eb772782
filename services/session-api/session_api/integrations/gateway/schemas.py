"""Wire shapes of the payment gateway's API and events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class GatewayPaymentStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    timeout = "timeout"
    refund_pending = "refund_pending"
    refunded = "refunded"
    refund_failed = "refund_failed"


class CreatePaymentRequest(BaseModel):
    amount: int = Field(gt=0)
    phone: str
    account_reference: str = Field(max_length=12)
    description: str = Field(max_length=13)
    metadata: dict[str, Any] = Field(default_factory=dict)


class GatewayPayment(BaseModel):
    """A payment as the gateway reports it (API answers and event data alike)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    status: GatewayPaymentStatus
    amount: int
    phone: str
    account_reference: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    environment: str | None = None
    checkout_request_id: str | None = None
    merchant_request_id: str | None = None
    result_code: str | None = None
    result_desc: str | None = None
    receipt_number: str | None = None
    customer_message: str | None = None
    reason: str | None = None
    review_reason: str | None = None
    # Grows by one at every status change; events carry the same number.
    sequence: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if value is not None else value

    @field_validator("result_code", mode="before")
    @classmethod
    def _result_code_as_text(cls, value: Any) -> Any:
        # Daraja's result codes arrive as numbers or strings depending on the path.
        return str(value) if value is not None else None


class GatewayRefund(BaseModel):
    """The refund of a completed payment through M-Pesa Reversal, as the gateway reports it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    state: str = Field(description="requested, asked, refunded or failed")
    amount: int
    receipt_number: str
    reason: str
    requested_by: str
    attempts: int = 0
    result_code: str | None = None
    result_desc: str | None = None
    failure_reason: str | None = None
    reversal_transaction_id: str | None = None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    payment: GatewayPayment

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if value is not None else value


class GatewayEventBody(BaseModel):
    """The body of a signed event: `{"id", "type", "created_at", "data", "sequence"}`."""

    model_config = ConfigDict(extra="ignore")

    id: str
    type: str
    created_at: datetime
    data: GatewayPayment
    sequence: int = Field(ge=0)


class ReconciliationRunSummary(BaseModel):
    """`reconciliation.completed`'s data: the run, its window and its counts per verdict."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str = Field(max_length=64)
    shortcode: str
    from_: datetime = Field(alias="from")
    to: datetime
    sources: list[str]
    summary: dict[str, int]
    open_exceptions: int = Field(ge=0)


class ReconciliationEventBody(BaseModel):
    """A signed `reconciliation.completed` event (no sequence: it is about no one payment)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    type: str
    created_at: datetime
    data: ReconciliationRunSummary
    sequence: int = Field(default=0, ge=0)


class EventEnvelope(BaseModel):
    """What every event carries, read first to choose the schema of the rest."""

    model_config = ConfigDict(extra="ignore")

    id: str
    type: str


class GatewayPaymentFacts(BaseModel):
    """What only the gateway knows about a payment, for the staff console's rows."""

    model_config = ConfigDict(extra="ignore")

    id: str
    status: str
    environment: str | None = None
    phone: str | None = None
    reason: str | None = None
    result_code: str | None = None
    receipt_number: str | None = None
    review_reason: str | None = None
    verdict: str | None = None
    open_exception: bool = False

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if value is not None else value
