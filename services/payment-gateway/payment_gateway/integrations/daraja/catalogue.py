"""What each STK result code means for a payment: its status and a stable reason code for
programs (the sentence shown to the payer for each reason is in `payment_gateway.payment.messages`).

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
    result_code: str | None = None


_CATALOGUE: dict[str, Outcome] = {
    "0": Outcome("completed", "paid"),
    "1": Outcome("failed", "insufficient_funds"),
    "2": Outcome("failed", "amount_limit"),
    "3": Outcome("failed", "amount_above_maximum"),
    "4": Outcome("failed", "daily_limit_exceeded"),
    "8": Outcome("failed", "merchant_balance_limit"),
    "17": Outcome("failed", "duplicate_within_2_minutes"),
    "26": Outcome("failed", "system_busy"),
    "1001": Outcome("failed", "subscriber_busy"),
    "1019": Outcome("timeout", "prompt_expired"),
    "1025": Outcome("failed", "prompt_not_sent"),
    "1031": Outcome("cancelled", "customer_cancelled"),
    "1032": Outcome("cancelled", "customer_cancelled"),
    "1036": Outcome("timeout", "prompt_not_delivered"),
    "1037": Outcome("timeout", "phone_unreachable"),
    "2001": Outcome("failed", "wrong_pin"),
    "2028": Outcome("failed", "merchant_misconfigured"),
    "SFC_IC0003": Outcome("failed", "merchant_misconfigured"),
    "4999": Outcome("pending", "processing"),
    "8006": Outcome("failed", "pin_locked"),
    "9999": Outcome("failed", "prompt_not_sent"),
    "E3008": Outcome("failed", "bad_debt_contract"),
}

_UNKNOWN = Outcome("failed", "unknown_result")
_REJECTED = Outcome("failed", "daraja_rejected")
# Retries of a push ran out while Daraja could not be reached.
_UNREACHABLE = Outcome("failed", "daraja_unavailable")
_NO_ANSWER = Outcome("timeout", "no_response")


def reasons() -> frozenset[str]:
    """Every reason an outcome can carry (each has a sentence for the payer)."""
    fixed = (_UNKNOWN, _REJECTED, _UNREACHABLE, _NO_ANSWER)
    return frozenset(o.reason for o in (*_CATALOGUE.values(), *fixed))


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


def outcome_for_unreachable(error: DarajaError) -> Outcome:
    """The outcome of a push whose retries ran out without reaching Daraja."""
    return replace(_UNREACHABLE, result_code=error.error_code)


def outcome_for_no_answer() -> Outcome:
    """The outcome when polling ends without a final answer from Daraja."""
    return _NO_ANSWER
