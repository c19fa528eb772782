"""Safaricom Daraja: the client (OAuth shared through Redis, STK Push and Query, Transaction
Status, Pull Transactions), its error hierarchy, the STK callback parser and the catalogue of
result codes."""

from payment_gateway.integrations.daraja.callbacks import (
    CallbackParseError,
    StkCallback,
    parse_stk_callback,
)
from payment_gateway.integrations.daraja.catalogue import (
    Outcome,
    OutcomeStatus,
    is_recognised,
    normalise_result_code,
    outcome_for,
    outcome_for_no_answer,
    outcome_for_rejection,
    outcome_for_unreachable,
)
from payment_gateway.integrations.daraja.client import DarajaClient
from payment_gateway.integrations.daraja.config import DarajaConfig
from payment_gateway.integrations.daraja.errors import (
    DarajaAuthError,
    DarajaError,
    DarajaRateLimited,
    DarajaRejected,
    DarajaSubscriberBusy,
    DarajaTokenInvalid,
    DarajaUnavailable,
)
from payment_gateway.integrations.daraja.results import (
    ResultParseError,
    TransactionResult,
    parse_result,
)
from payment_gateway.integrations.daraja.reversal import (
    ALREADY_REVERSED,
    ReversalOutcome,
    reversal_outcome,
)
from payment_gateway.integrations.daraja.schemas import (
    PullRegistration,
    PullTransaction,
    PullTransactionsPage,
    ResultAck,
    StkPushAccepted,
    StkQueryResult,
)
from payment_gateway.integrations.daraja.timestamps import (
    NAIROBI,
    daraja_timestamp,
    parse_daraja_timestamp,
    stk_password,
)

__all__ = [
    "ALREADY_REVERSED",
    "NAIROBI",
    "CallbackParseError",
    "DarajaAuthError",
    "DarajaClient",
    "DarajaConfig",
    "DarajaError",
    "DarajaRateLimited",
    "DarajaRejected",
    "DarajaSubscriberBusy",
    "DarajaTokenInvalid",
    "DarajaUnavailable",
    "Outcome",
    "OutcomeStatus",
    "PullRegistration",
    "PullTransaction",
    "PullTransactionsPage",
    "ResultAck",
    "ResultParseError",
    "ReversalOutcome",
    "StkCallback",
    "StkPushAccepted",
    "StkQueryResult",
    "TransactionResult",
    "daraja_timestamp",
    "is_recognised",
    "normalise_result_code",
    "outcome_for",
    "outcome_for_no_answer",
    "outcome_for_rejection",
    "outcome_for_unreachable",
    "parse_daraja_timestamp",
    "parse_result",
    "parse_stk_callback",
    "reversal_outcome",
    "stk_password",
]
