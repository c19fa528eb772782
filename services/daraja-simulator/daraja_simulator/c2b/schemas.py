from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

REGISTER_EXAMPLE = {
    "ShortCode": "174379",
    "ResponseType": "Completed",
    "ConfirmationURL": "https://example.com/c2b/confirmation",
    "ValidationURL": "https://example.com/c2b/validation",
}


class Registered(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    # Safaricom's own misspelling.
    originator_conversation_id: str = Field(serialization_alias="OriginatorCoversationID")
    response_code: str = Field(serialization_alias="ResponseCode")
    response_description: str = Field(serialization_alias="ResponseDescription")


class HandPayment(BaseModel):
    """A customer paying the paybill by hand (M-Pesa menu, not a prompt)."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(pattern=r"^254[17]\d{8}$", description="2547XXXXXXXX or 2541XXXXXXXX")
    amount: int = Field(ge=1, le=250_000, description="Whole KES.")
    account_reference: str = Field(min_length=1, max_length=20)
    shortcode: str = Field(default="174379", pattern=r"^\d{5,7}$")
    deliver_confirmation: bool = Field(
        default=True, description="false: the confirmation callback is lost on its way."
    )


class HandPaymentView(BaseModel):
    accepted: bool
    receipt: str | None
    result_code: str = Field(description="What validation answered (0: accepted).")
    confirmation_delivered: bool | None = Field(
        description="Whether the confirmation reached the registered URL (null: not sent yet)."
    )
