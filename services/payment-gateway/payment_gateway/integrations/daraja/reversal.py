"""What a Reversal result code means for a refund (Daraja's Reversal page): `0` reversed;
`R000001` the transaction is reversed already (by an earlier request of ours whose answer was
lost, or by hand in the org portal), so the money is back with the payer too; everything else
is a refusal with a stable reason for staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ReversalStatus = Literal["refunded", "failed"]

ALREADY_REVERSED = "R000001"


@dataclass(frozen=True)
class ReversalOutcome:
    status: ReversalStatus
    reason: str


_CATALOGUE: dict[str, ReversalOutcome] = {
    "0": ReversalOutcome("refunded", "reversed"),
    ALREADY_REVERSED: ReversalOutcome("refunded", "already_reversed"),
    "R000002": ReversalOutcome("failed", "invalid_original_transaction"),
    "1": ReversalOutcome("failed", "insufficient_balance"),
    "11": ReversalOutcome("failed", "debit_party_invalid_state"),
    "21": ReversalOutcome("failed", "initiator_not_allowed"),
    "2001": ReversalOutcome("failed", "initiator_credentials_invalid"),
    "2006": ReversalOutcome("failed", "account_rule"),
    "2028": ReversalOutcome("failed", "product_not_assigned"),
    "8006": ReversalOutcome("failed", "security_credential_locked"),
}


def reversal_outcome(result_code: str) -> ReversalOutcome:
    """An unknown code is a refusal: a refund is only believed on Daraja's word that it
    happened."""
    return _CATALOGUE.get(result_code, ReversalOutcome("failed", "reversal_refused"))
