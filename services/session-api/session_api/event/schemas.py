from __future__ import annotations

from pydantic import BaseModel, Field

from session_api.models import EventOutcome


class EventReceipt(BaseModel):
    """What the receiver did with an event. Any 2xx tells the gateway to stop retrying."""

    webhook_id: str
    duplicate: bool = Field(description="This webhook-id was received before; nothing was done.")
    outcome: EventOutcome | None = Field(
        description="applied, unchanged, stale (an older sequence), or unmatched (no payable)."
    )
