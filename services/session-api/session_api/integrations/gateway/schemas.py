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


class DarajaCredentialsView(BaseModel):
    """An environment's Daraja credentials as the gateway shows them: secrets masked to their
    last 4 characters."""

    model_config = ConfigDict(extra="ignore")

    environment: str
    active: bool
    source: str = Field(description="`stored`, `settings` (the gateway's bootstrap) or `none`.")
    shortcode: str | None = None
    shortcode_type: str | None = None
    callback_base_url: str | None = None
    consumer_key: str | None = None
    consumer_secret: str | None = None
    passkey: str | None = None
    initiator_name: str | None = None
    security_credential: str | None = None
    key_id: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    tested_at: datetime | None = None
    test_passed: bool | None = None


class DarajaSettingsView(BaseModel):
    model_config = ConfigDict(extra="ignore")

    active_environment: str
    environments: list[DarajaCredentialsView]


class ConnectionStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(description="`token`, then `stk_query`.")
    ok: bool
    latency_ms: int | None = Field(description="None when the step was not reached.")
    detail: str


class ConnectionTestResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    environment: str
    ok: bool
    steps: list[ConnectionStep]


class ReadinessItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    ok: bool
    detail: str


class ReadinessChecklist(BaseModel):
    """What production needs; the switch is refused unless every item is ok."""

    model_config = ConfigDict(extra="ignore")

    ready: bool
    items: list[ReadinessItem]


class ActiveEnvironment(BaseModel):
    """The environment new payments are made in, and the shortcode payers pay to there."""

    model_config = ConfigDict(extra="ignore")

    environment: str
    shortcode: str | None = None
    shortcode_type: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
