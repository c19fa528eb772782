from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from shared.schemas import StrictModel, Text


class ErasureRequest(StrictModel):
    payment_ids: list[uuid.UUID] = Field(
        max_length=10_000, description="The erased payer's payments (unknown ids are skipped)."
    )
    redact: list[Text] = Field(
        default_factory=list,
        max_length=50,
        description="Words to blank wherever these payments' stored callbacks and M-Pesa records "
        "carry them: the payer's names and e-mail address, as the caller knows them (at least 3 "
        "characters each; C2B confirmations carry first and last names apart).",
    )


class ErasureOut(BaseModel):
    payments: int = Field(description="Payments whose phone is now its keyed hash.")
    callbacks: int = Field(
        description="Stored callbacks rewritten (STK, Transaction Status results, C2B)."
    )
    records: int = Field(description="M-Pesa records (reconciliation) rewritten.")
    checkout_request_ids: dict[str, str] = Field(
        description="Each payment's CheckoutRequestID as it now is, by payment id. Daraja writes "
        "the payer's number into it, so erasure rewrites that part (such a payment can no "
        "longer be asked about with STK Query; its receipt still reconciles)."
    )
