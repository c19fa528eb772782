"""API shapes of the staff console's service endpoints: facts to enrich a page of payments, a
payment's merged timeline, and the statistics behind the console's charts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from payment_gateway.payment.schemas import PaymentOut
from shared.schemas import StrictModel

FACTS_MAX_IDS = 1000


class FactsRequest(StrictModel):
    ids: list[uuid.UUID] = Field(
        max_length=FACTS_MAX_IDS, description=f"At most {FACTS_MAX_IDS} payment ids."
    )


class PaymentFacts(BaseModel):
    """What only the gateway knows about a payment, for one row of the console's list."""

    id: uuid.UUID
    status: str
    environment: Literal["sandbox", "production"]
    phone: str = Field(description="Masked to the country code and the last 4 digits.")
    reason: str | None
    result_code: str | None
    receipt_number: str | None
    review_reason: str | None = Field(description="Set while the payment is held for review.")
    verdict: str | None = Field(description="The latest reconciliation verdict, if any.")
    open_exception: bool = Field(description="An unresolved reconciliation exception exists.")


class EntryKind(StrEnum):
    event = "event"  # a status change or note of ours
    staff_action = "staff_action"  # an event a person caused (source admin)
    callback = "callback"  # Daraja's raw STK callback, phone masked
    poll = "poll"  # an STK Query and Daraja's answer
    delivery = "delivery"  # one attempt at delivering an event to a subscriber
    reconciliation = "reconciliation"  # a verdict of a reconciliation run, or its exception


class GuidanceOut(BaseModel):
    tell_customer: str = Field(description="What to tell the customer, in their words.")
    staff_can: str = Field(description="What staff can do about it.")


class TimelineEntry(BaseModel):
    """One line of a payment's merged timeline."""

    at: datetime
    kind: EntryKind
    summary: str = Field(description="One line for a person.")
    actor: str | None
    status: str | None = Field(description="The payment's status after this entry, if known.")
    reason: str | None
    result_code: str | None
    failure: bool = Field(description="This entry is a failure, hold or discrepancy.")
    guidance: GuidanceOut | None = Field(description="Set on every failure.")
    detail: dict[str, Any]


class PaymentTimeline(BaseModel):
    payment: PaymentOut
    verdict: str | None
    open_exception: bool
    entries: list[TimelineEntry] = Field(description="Oldest first.")


class Granularity(StrEnum):
    day = "day"
    hour = "hour"


class StatusTotals(BaseModel):
    status: str
    count: int
    amount: int = Field(description="KES.")


class Bucket(BaseModel):
    """One day or hour (Africa/Nairobi) of the window."""

    start: datetime = Field(description="In Africa/Nairobi time, with its offset.")
    by_status: list[StatusTotals]


class ReasonCount(BaseModel):
    reason: str
    count: int


class PaymentStats(BaseModel):
    """The numbers behind the console's charts, for payments created in `[from, to)`."""

    window_from: datetime
    window_to: datetime
    granularity: Granularity
    total_count: int
    total_amount: int = Field(description="KES asked for, all statuses.")
    by_status: list[StatusTotals]
    success_rate: float | None = Field(
        description="completed / (completed + failed + cancelled + timeout); null when none ended."
    )
    failure_reasons: list[ReasonCount] = Field(description="Most frequent first.")
    median_seconds_to_pay: float | None = Field(
        description="From the prompt (push accepted) to the payment settling, completed only."
    )
    p95_seconds_to_pay: float | None
    late_successes: int = Field(
        description="Completed after a failure or timeout, or proven by reconciliation."
    )
    held: int = Field(description="Payments held for review now (any date).")
    open_exceptions: int = Field(description="Open reconciliation exceptions now (any date).")
    buckets: list[Bucket]
