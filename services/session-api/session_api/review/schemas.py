"""API shapes of staff review."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from session_api.payment.schemas import AttemptOut
from shared.schemas import MultilineText, StrictModel


class Decision(StrEnum):
    accept = "accept"
    reject = "reject"


class ReviewIn(StrictModel):
    """What staff decided about a payment held for review, and why."""

    decision: Decision = Field(
        description="accept: credit the payment (its booking, order or deposit is paid); "
        "reject: fail it (the client can pay again)."
    )
    note: MultilineText = Field(
        min_length=1, max_length=1000, description="Why; kept on the payment's timeline."
    )


class ReviewOut(BaseModel):
    """The attempt after the decision, and what the gateway now says about its payment."""

    decision: Decision
    gateway_status: str = Field(description="The gateway payment's status (completed, failed).")
    attempt: AttemptOut
