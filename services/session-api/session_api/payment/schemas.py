from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, computed_field

from session_api.models import AttemptStatus, PayableType
from session_api.validation import KenyanPhone
from shared.schemas import StrictModel

RETRY_HINTS = {
    AttemptStatus.failed: "Nothing was charged. You can try again now.",
    AttemptStatus.cancelled: "Nothing was charged. You can try again now.",
    AttemptStatus.timeout: (
        "If you did enter your PIN, the payment will still be recorded once M-Pesa confirms it; "
        "otherwise you can try again now."
    ),
}


class PayRequest(StrictModel):
    phone: KenyanPhone


class AttemptOut(BaseModel):
    """A payment attempt as the payer (and the therapist of a booking) sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    payable_type: PayableType
    payable_id: uuid.UUID
    attempt_number: int
    amount: int
    phone: str = Field(
        validation_alias=AliasChoices("phone_masked", "phone"),
        description="Masked to its last 4 digits.",
    )
    status: AttemptStatus
    customer_message: str
    receipt_number: str | None
    reason: str | None = Field(description="Why it was not paid (a stable code), if it was not.")
    version: int = Field(description="Grows with every status change.")
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def retry_hint(self) -> str | None:
        return RETRY_HINTS.get(self.status)

    @computed_field(  # type: ignore[prop-decorator]
        description="The M-Pesa account reference: with the paybill number, how to pay by hand."
    )
    @property
    def account_reference(self) -> str:
        return self.payable_type.account_reference(self.payable_id)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def can_retry(self) -> bool:
        return self.status.allows_retry
