from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from session_api.models import AttemptStatus, LedgerEntryKind
from session_api.payment.schemas import AttemptOut
from session_api.validation import DepositKes, KenyanPhone
from shared.schemas import StrictModel


class WalletOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    balance: int
    currency: Literal["KES"] = "KES"
    updated_at: datetime


class DepositRequest(StrictModel):
    amount: DepositKes
    phone: KenyanPhone


class DepositOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    amount: int
    phone: str = Field(
        validation_alias=AliasChoices("phone_masked", "phone"),
        description="Masked to its last 4 digits.",
    )
    status: AttemptStatus
    reason: str | None
    receipt_number: str | None
    created_at: datetime
    credited_at: datetime | None


class DepositCreated(DepositOut):
    attempt: AttemptOut = Field(description="The M-Pesa payment that funds the deposit.")

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, value: Any) -> Any:
        """A new deposit and its attempt, as the deposit service answers them."""
        if not isinstance(value, tuple):
            return value
        deposit, attempt = value
        return {
            **DepositOut.model_validate(deposit).model_dump(),
            "attempt": AttemptOut.model_validate(attempt),
        }


class LedgerEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: LedgerEntryKind
    amount: int
    balance_after: int
    description: str
    receipt_number: str | None
    reference_type: str | None
    reference_id: uuid.UUID | None
    created_at: datetime
