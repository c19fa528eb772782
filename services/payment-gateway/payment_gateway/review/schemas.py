"""API shapes of staff review of held payments."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shared.schemas import MultilineText, StrictModel


class Decision(StrEnum):
    accept = "accept"
    reject = "reject"


class ReviewDecision(StrictModel):
    """What staff decided about a payment held for review, and why."""

    decision: Decision = Field(
        description="accept: credit the payment (it completes, its payable is paid); reject: "
        "fail it (its payable may be paid again)."
    )
    note: MultilineText = Field(
        min_length=1, max_length=1000, description="Why: kept on the payment's timeline."
    )
