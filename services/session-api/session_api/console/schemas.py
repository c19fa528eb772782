"""API shapes of the staff console: rows that carry names (not ids to look up), one payment with
its whole story, and the numbers behind the charts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from session_api.models import AttemptStatus, PayableType


class Environment(StrEnum):
    sandbox = "sandbox"
    production = "production"


class PaymentSort(StrEnum):
    newest = "newest"
    oldest = "oldest"
    amount_desc = "amount_desc"
    amount_asc = "amount_asc"


class ClientOut(BaseModel):
    id: uuid.UUID
    name: str
    email: str


class PaidFor(BaseModel):
    """What the payment was for, in words a person reads."""

    type: PayableType
    id: uuid.UUID
    reference: str = Field(description="The M-Pesa account reference (order number for orders).")
    summary: str = Field(description="e.g. 'Session with Dr A. Mwangi, 3 Dec 2026 09:00 EAT'.")
    therapist_name: str | None = None
    session_at: datetime | None = None
    order_number: str | None = None
    status: str | None = Field(default=None, description="The booking's, order's or deposit's.")


class AdminPaymentRow(BaseModel):
    """One payment attempt in the console's list."""

    id: uuid.UUID
    created_at: datetime
    amount: int = Field(description="KES.")
    status: AttemptStatus
    reason: str | None = Field(description="Why it failed, was cancelled or timed out.")
    status_detail: str | None = Field(description="M-Pesa's own words (result description).")
    result_code: str | None
    client: ClientOut
    paid_for: PaidFor
    attempt_number: int
    receipt_number: str | None
    phone: str = Field(description="Masked: 254*****5678.")
    environment: Environment | None
    checkout_request_id: str | None
    gateway_payment_id: str
    held_for_review: str | None = Field(
        description="Why the gateway holds the payment for staff review, while it does."
    )
    reconciliation_verdict: str | None = Field(description="The latest verdict, if reconciled.")
    open_exception: bool = Field(description="An unresolved reconciliation exception exists.")


class AdminPaymentPage(BaseModel):
    items: list[AdminPaymentRow]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
    gateway_facts: bool = Field(
        description="False when the gateway could not be asked: held, verdict and environment "
        "fall back to what session-api recorded."
    )


class Guidance(BaseModel):
    tell_customer: str
    staff_can: str


class TimelineEntry(BaseModel):
    at: datetime
    # A string, not an enum: a kind the gateway adds later must not break the page.
    kind: str = Field(
        description="attempt, event, staff_action, callback, poll, delivery or reconciliation."
    )
    summary: str
    actor: str | None
    actor_name: str | None = Field(
        default=None,
        description="The person behind `actor` (`user:<id>`, `client:<id>`) as named now.",
    )
    status: str | None
    reason: str | None
    result_code: str | None
    failure: bool
    guidance: Guidance | None
    detail: dict[str, Any]


class AdminPaymentDetail(BaseModel):
    """One payment attempt: what was paid for, by whom, every attempt at paying it, and the
    merged timeline of the gateway's records."""

    payment: AdminPaymentRow
    client: ClientOut
    paid_for: PaidFor
    attempts: list[AdminPaymentRow] = Field(
        description="Every attempt at this payable, oldest first."
    )
    timeline: list[TimelineEntry] = Field(description="Oldest first.")
    timeline_complete: bool = Field(
        description="False when the gateway could not be asked: only session-api's entries."
    )


class Granularity(StrEnum):
    day = "day"
    hour = "hour"


class StatusTotals(BaseModel):
    status: str
    count: int
    amount: int


class Bucket(BaseModel):
    start: datetime = Field(description="In Africa/Nairobi time, with its offset.")
    by_status: list[StatusTotals]


class ReasonCount(BaseModel):
    reason: str
    count: int


class AdminStats(BaseModel):
    """The numbers behind the console's charts, for payments created in `[from, to)`."""

    window_from: datetime
    window_to: datetime
    granularity: Granularity
    total_count: int
    total_amount: int
    by_status: list[StatusTotals]
    success_rate: float | None
    failure_reasons: list[ReasonCount]
    median_seconds_to_pay: float | None
    p95_seconds_to_pay: float | None
    late_successes: int
    held: int
    open_exceptions: int
    buckets: list[Bucket]
