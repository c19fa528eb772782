"""What each STK result code means for a payment: its status, a stable reason code for
programs, and a sentence for the payer.

Statuses follow the payment lifecycle (ARCHITECTURE §3.2): ``completed`` only for code 0 (the
caller still requires a receipt), ``cancelled`` when the payer said no, ``timeout`` when the
prompt never got an answer, ``pending`` while Daraja is still processing, ``failed`` for every
other final code, including codes we have never seen (kept in ``result_code``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from payment_gateway.integrations.daraja.errors import DarajaError, DarajaSubscriberBusy
from payment_gateway.integrations.daraja.numbers import to_decimal, whole

OutcomeStatus = Literal["completed", "failed", "cancelled", "timeout", "pending"]


@dataclass(frozen=True)
class Outcome:
    status: OutcomeStatus
    reason: str
    customer_message: str
    result_code: str | None = None


_TRY_AGAIN = "No money was taken. Please try again."

_CATALOGUE: dict[str, Outcome] = {
    "0": Outcome("completed", "paid", "Payment received. Thank you."),
    "1": Outcome(
        "failed",
        "insufficient_funds",
        "Your M-Pesa balance is not enough for this payment. Top up your M-Pesa account and "
        "try again.",
    ),
    "2": Outcome(
        "failed",
        "amount_limit",
        "M-Pesa declined this amount: it is below the minimum M-Pesa allows. No money was taken.",
    ),
    "3": Outcome(
        "failed",
        "amount_above_maximum",
        "M-Pesa declined this amount: it is above the most you can pay in one transaction. No "
        "money was taken.",
    ),
    "4": Outcome(
        "failed",
        "daily_limit_exceeded",
        "M-Pesa declined this payment because it would go over your daily M-Pesa limit. No "
        "money was taken.",
    ),
    "8": Outcome(
        "failed",
        "merchant_balance_limit",
        "M-Pesa could not complete this payment to the merchant's account right now. No money "
        "was taken. Please try again later.",
    ),
    "17": Outcome(
        "failed",
        "duplicate_within_2_minutes",
        "M-Pesa stopped this payment because the same amount was just requested from your "
        "phone. Wait 2 minutes before trying again.",
    ),
    "26": Outcome(
        "failed",
        "system_busy",
        "M-Pesa is busy right now. No money was taken. Please try again in a few minutes.",
    ),
    "1001": Outcome(
        "failed",
        "subscriber_busy",
        "Another M-Pesa request is already open on your phone. Finish or cancel it, wait a "
        "minute, then try again.",
    ),
    "1019": Outcome(
        "timeout",
        "prompt_expired",
        "The M-Pesa prompt expired before it was completed. " + _TRY_AGAIN,
    ),
    "1025": Outcome(
        "failed",
        "prompt_not_sent",
        "We could not send the M-Pesa prompt to your phone. " + _TRY_AGAIN,
    ),
    "1031": Outcome("cancelled", "customer_cancelled", "You cancelled the M-Pesa prompt."),
    "1032": Outcome("cancelled", "customer_cancelled", "You cancelled the M-Pesa prompt."),
    "1036": Outcome(
        "timeout",
        "prompt_not_delivered",
        "The M-Pesa prompt did not reach your phone. " + _TRY_AGAIN,
    ),
    "1037": Outcome(
        "timeout",
        "phone_unreachable",
        "We could not reach your phone. Make sure it is on and has network, then try again.",
    ),
    "2001": Outcome(
        "failed",
        "wrong_pin",
        "The M-Pesa PIN entered was wrong. No money was taken. Please try again.",
    ),
    "2028": Outcome(
        "failed",
        "merchant_misconfigured",
        "This merchant cannot receive M-Pesa payments right now. No money was taken. Please "
        "contact the merchant.",
    ),
    "SFC_IC0003": Outcome(
        "failed",
        "merchant_misconfigured",
        "This merchant cannot receive M-Pesa payments right now. No money was taken. Please "
        "contact the merchant.",
    ),
    "4999": Outcome(
        "pending",
        "processing",
        "Check your phone and enter your M-Pesa PIN to complete the payment.",
    ),
    "8006": Outcome(
        "failed",
        "pin_locked",
        "Your M-Pesa PIN is locked. Call Safaricom on 100 or 200 to unlock it, then try again.",
    ),
    "9999": Outcome(
        "failed",
        "prompt_not_sent",
        "We could not send the M-Pesa prompt to your phone. " + _TRY_AGAIN,
    ),
    "E3008": Outcome(
        "failed",
        "bad_debt_contract",
        "M-Pesa declined this payment for your line. No money was taken. Call Safaricom on 100 "
        "for help.",
    ),
}

_UNKNOWN = Outcome("failed", "unknown_result", "The payment did not go through. " + _TRY_AGAIN)
_REJECTED = Outcome(
    "failed",
    "daraja_rejected",
    "We could not start the M-Pesa payment. No money was taken. Please try again later.",
)
_NO_ANSWER = Outcome(
    "timeout",
    "no_response",
    "We did not get an answer from M-Pesa in time. If money left your account it will be "
    "matched to this payment; otherwise please try again.",
)


def normalise_result_code(value: object) -> str | None:
    """A result code as the string the catalogue is keyed by: Daraja sends ``0`` in callbacks,
    ``"0"`` in queries and ``"E3008"`` in both. None for a missing or empty code."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        number = to_decimal(value)
        if number is None:
            return None
        integral = whole(number)
        return str(integral) if integral is not None else str(number)
    if isinstance(value, str):
        text = value.strip()
        return text or None
    return None


def is_recognised(result_code: str) -> bool:
    """Whether a result code can be acted on: one the catalogue knows, or a plain number (an
    unknown number is still a final failure). Anything else, a word such as ``"Success"``, says
    nothing reliable: the caller asks Daraja instead of guessing."""
    if result_code in _CATALOGUE:
        return True
    digits = result_code.removeprefix("-")
    return digits.isascii() and digits.isdigit() and len(digits) <= 9


def outcome_for(result_code: str | int) -> Outcome:
    """The outcome of an STK result code; unknown codes fail with ``unknown_result`` and keep
    the code."""
    code = normalise_result_code(result_code)
    if code is not None and code.lstrip("-").isdigit():
        code = str(int(code))  # "0001" and "1" are the same code
    known = _CATALOGUE.get(code or "")
    return replace(known or _UNKNOWN, result_code=code)


def outcome_for_rejection(error: DarajaError) -> Outcome:
    """The outcome of a push Daraja refused synchronously (``DarajaRejected``, or a
    ``DarajaSubscriberBusy`` the caller gave up retrying)."""
    if isinstance(error, DarajaSubscriberBusy):
        return replace(_CATALOGUE["1001"], result_code=error.error_code)
    return replace(_REJECTED, result_code=error.error_code)


def outcome_for_no_answer() -> Outcome:
    """The outcome when polling ends without a final answer from Daraja."""
    return _NO_ANSWER
