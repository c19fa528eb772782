"""What the simulated customer does, and how Daraja reports it.

The last three digits of the phone number choose a behaviour (a contract other teams' tests rely
on: keep the codes). A behaviour set for a phone through the control API wins over the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CustomerAction(StrEnum):
    """What ends a prompt."""

    pay = "pay"
    cancel = "cancel"
    insufficient_balance = "insufficient_balance"
    wrong_pin = "wrong_pin"
    unreachable = "unreachable"
    expire = "expire"


class Reporting(StrEnum):
    """How Daraja tells the merchant about the outcome."""

    normal = "normal"  # one callback; the query tells the same story
    no_callback = "no_callback"  # the query knows the truth, no callback ever comes
    triple_callback = "triple_callback"  # the same callback delivered three times
    late = "late"  # the query says "being processed" until a late callback, after LONG_DELAY
    query_contradicts = "query_contradicts"  # callback success, query answers 1032
    never = "never"  # no callback, and the query says "being processed" forever


class Timing(StrEnum):
    """When an automatic customer acts."""

    response_delay = "response_delay"  # CUSTOMER_RESPONSE_DELAY_S
    prompt_window = "prompt_window"  # PROMPT_WINDOW_S: the prompt runs out first
    manual = "manual"  # waits for a person; the prompt window still expires it


@dataclass(frozen=True)
class Behaviour:
    name: str
    code: str | None
    description: str
    action: CustomerAction
    timing: Timing
    reporting: Reporting = Reporting.normal


@dataclass(frozen=True)
class Outcome:
    result_code: int
    result_desc: str


OUTCOMES: dict[CustomerAction, Outcome] = {
    CustomerAction.pay: Outcome(0, "The service request is processed successfully."),
    CustomerAction.cancel: Outcome(1032, "Request cancelled by user"),
    CustomerAction.insufficient_balance: Outcome(
        1, "The balance is insufficient for the transaction."
    ),
    CustomerAction.wrong_pin: Outcome(2001, "The initiator information is invalid."),
    CustomerAction.unreachable: Outcome(1037, "DS timeout user cannot be reached"),
    CustomerAction.expire: Outcome(1019, "Transaction has expired"),
}
RULE_LIMITED = Outcome(17, "Rule limited.")
PRODUCT_NOT_PERMITTED = Outcome(
    2028, "The request is not permitted according to product assignment."
)

PAY = Behaviour(
    "pay", None, "pays after the customer response delay", CustomerAction.pay, Timing.response_delay
)
MANUAL = Behaviour(
    "manual",
    None,
    "waits for Approve / Cancel / Wrong PIN on the virtual phone; expires after the prompt window",
    CustomerAction.expire,
    Timing.manual,
)

TABLE: tuple[Behaviour, ...] = (
    Behaviour(
        "cancel", "001", "cancels: callback 1032", CustomerAction.cancel, Timing.response_delay
    ),
    Behaviour(
        "insufficient_balance",
        "002",
        "insufficient balance: callback 1",
        CustomerAction.insufficient_balance,
        Timing.response_delay,
    ),
    Behaviour(
        "wrong_pin",
        "003",
        "wrong PIN: callback 2001",
        CustomerAction.wrong_pin,
        Timing.response_delay,
    ),
    Behaviour(
        "unreachable",
        "004",
        "unreachable: callback 1037 after the prompt window",
        CustomerAction.unreachable,
        Timing.prompt_window,
    ),
    Behaviour(
        "no_callback",
        "005",
        "pays, but no callback is ever sent (the query knows the truth)",
        CustomerAction.pay,
        Timing.response_delay,
        Reporting.no_callback,
    ),
    Behaviour(
        "duplicate_callbacks",
        "006",
        "pays, and the callback is delivered three times",
        CustomerAction.pay,
        Timing.response_delay,
        Reporting.triple_callback,
    ),
    Behaviour(
        "expire",
        "007",
        "prompt expires: callback 1019",
        CustomerAction.expire,
        Timing.prompt_window,
    ),
    Behaviour(
        "late_callback",
        "008",
        "pays, but Daraja reports it late: the query says being processed and the success "
        "callback arrives only after the long delay",
        CustomerAction.pay,
        Timing.response_delay,
        Reporting.late,
    ),
    Behaviour(
        "query_contradicts",
        "009",
        "pays; the callback says success and the query wrongly answers 1032",
        CustomerAction.pay,
        Timing.response_delay,
        Reporting.query_contradicts,
    ),
    Behaviour(
        "never_answers",
        "010",
        "never answers: no callback, and the query says being processed forever",
        CustomerAction.expire,
        Timing.prompt_window,
        Reporting.never,
    ),
)

BY_CODE: dict[str, Behaviour] = {b.code: b for b in TABLE if b.code is not None}
BY_NAME: dict[str, Behaviour] = {b.name: b for b in (PAY, MANUAL, *TABLE)}


def lookup(name_or_code: str) -> Behaviour | None:
    """A behaviour by name (``cancel``) or by table code (``001``)."""
    return BY_NAME.get(name_or_code) or BY_CODE.get(name_or_code)


def for_phone(phone: str, *, overrides: dict[str, Behaviour], auto_respond: bool) -> Behaviour:
    if phone in overrides:
        return overrides[phone]
    if not auto_respond:
        return MANUAL
    return BY_CODE.get(phone[-3:], PAY)
