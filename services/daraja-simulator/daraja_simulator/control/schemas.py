"""Shapes of the control and inspection API under `/simulator/`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from daraja_simulator import behaviours
from daraja_simulator.faults import FaultKind
from daraja_simulator.requestlog import APIS


class CheckoutView(BaseModel):
    """One accepted STK push as the simulator sees it: the truth, and what Daraja has said."""

    checkout_request_id: str
    merchant_request_id: str
    shortcode: str
    party_b: str
    phone: str
    amount: int
    account_reference: str
    description: str
    callback_url: str
    created_at: datetime
    behaviour: str
    stage: str = Field(description="prompt_open, processing (not reported yet) or reported")
    prompt_open: bool
    ignored: bool
    action: str | None = Field(description="what the customer did, if anything")
    result_code: int | None = Field(description="the true outcome")
    result_desc: str | None
    reported_result_code: int | None = Field(description="what the STK query answers")
    receipt: str | None
    completed_at: datetime | None
    callback_attempts: int


class DeliveryAttemptView(BaseModel):
    id: int
    kind: str = Field(description="stk, transaction_status, reversal or queue_timeout")
    reference: str = Field(description="CheckoutRequestID, or the ConversationID of a status query")
    url: str
    delivery: int = Field(description="1, or 2 and 3 for a duplicated callback")
    attempt: int = Field(description="1, then retries when SIMULATOR_CALLBACK_RETRIES > 0")
    started_at: datetime
    duration_ms: float
    status_code: int | None
    error: str | None
    delivered: bool
    body: Any


class DeliveryAttemptList(BaseModel):
    count: int
    attempts: list[DeliveryAttemptView]


class RequestView(BaseModel):
    id: int
    at: datetime
    method: str
    path: str
    api: str
    query: str
    auth_scheme: str | None
    body: Any = Field(description="the JSON body, Password and SecurityCredential hidden")
    status: int | None
    fault: str | None = Field(description="the injected fault that answered, if any")


class RequestList(BaseModel):
    count: int
    requests: list[RequestView]


class FaultIn(BaseModel):
    """A fault for the next `count` requests, for `seconds`, or (neither) until cleared."""

    kind: FaultKind
    count: int | None = Field(default=None, ge=1)
    seconds: float | None = Field(default=None, gt=0)
    path: str | None = Field(default=None, description="only this Daraja path; default all")
    latency_s: float | None = Field(default=None, gt=0, description="for kind latency")
    rps: int | None = Field(default=None, ge=1, description="spike_arrest as a rate limit")
    result_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=16,
        pattern=r"^[A-Za-z0-9.]+$",
        description="for kind result_code: the code a Reversal result carries (2001, R000002)",
    )

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.kind is FaultKind.latency and self.latency_s is None:
            raise ValueError("a latency fault needs latency_s")
        if (self.kind is FaultKind.result_code) != (self.result_code is not None):
            raise ValueError("result_code goes with kind result_code, and it needs one")
        if self.rps is not None and self.kind is not FaultKind.spike_arrest:
            raise ValueError("rps applies to spike_arrest only")
        if self.rps is not None and self.count is not None:
            raise ValueError("give a spike_arrest either rps or count, not both")
        if self.path is not None and self.path not in APIS:
            raise ValueError(f"path must be one of {sorted(APIS)}")
        return self


class FaultView(BaseModel):
    id: int
    kind: FaultKind
    remaining: int | None
    seconds_left: float | None
    path: str | None
    latency_s: float | None
    rps: int | None
    result_code: str | None
    created_at: datetime


class BehaviourIn(BaseModel):
    behaviour: str = Field(description="a behaviour name (cancel) or table code (001)")

    @field_validator("behaviour")
    @classmethod
    def _known(cls, value: str) -> str:
        if behaviours.lookup(value) is None:
            raise ValueError(f"unknown behaviour; one of {sorted(behaviours.BY_NAME)}")
        return value


class BehaviourView(BaseModel):
    code: str | None
    name: str
    description: str


class PhoneBehaviour(BaseModel):
    phone: str
    behaviour: BehaviourView


class BehaviourTable(BaseModel):
    auto_respond: bool
    default: BehaviourView
    table: list[BehaviourView]
    overrides: list[PhoneBehaviour]


class AutoRespondIn(BaseModel):
    enabled: bool


class TokensInvalidated(BaseModel):
    invalidated: int


class ClockView(BaseModel):
    now: datetime
    offset_s: float


class ClockAdvance(BaseModel):
    seconds: float = Field(gt=0)


class LedgerEntryView(BaseModel):
    receipt: str
    amount: int
    phone: str
    customer_name: str
    shortcode: str
    party_b: str
    transaction_type: str
    account_reference: str
    description: str
    checkout_request_id: str
    merchant_request_id: str
    initiated_at: datetime
    completed_at: datetime
    balance_after: int


class LedgerList(BaseModel):
    count: int
    entries: list[LedgerEntryView]
