"""What staff read beside a failure on a payment's timeline: what to tell the customer (the
payer's own sentence from `payment.messages`) and what staff can do about it, keyed by the
stable reason codes of `integrations/daraja/catalogue.py` and the gateway's own holds and
contradictions."""

from __future__ import annotations

from dataclasses import dataclass

from payment_gateway.payment import messages

_RETRY = "Nothing to fix on our side: the customer can start a new payment."
_WAIT_AND_RETRY = "Let the customer start a new payment after a few minutes."
_CHECK_SETUP = (
    "Check the shortcode, passkey and environment of the Daraja credentials; escalate to "
    "whoever manages the M-Pesa account before asking customers to retry."
)

_STAFF_CAN: dict[str, str] = {
    "insufficient_funds": _RETRY,
    "amount_limit": "Check the amount: M-Pesa refuses amounts below its minimum.",
    "amount_above_maximum": "Suggest paying in parts, or another payment method.",
    "daily_limit_exceeded": "The customer can pay tomorrow or from another M-Pesa line.",
    "merchant_balance_limit": "The merchant account reached its balance limit: escalate to "
    "finance to move funds out, then let the customer retry.",
    "duplicate_within_2_minutes": "Wait 2 minutes, check no earlier payment of the same amount "
    "succeeded, then let the customer retry.",
    "system_busy": _WAIT_AND_RETRY,
    "subscriber_busy": "Another prompt was open on the phone: " + _WAIT_AND_RETRY.lower(),
    "prompt_expired": _RETRY,
    "prompt_not_sent": _WAIT_AND_RETRY,
    "customer_cancelled": "Confirm the customer meant to cancel; they can pay again.",
    "prompt_not_delivered": "Ask the customer to check their phone is on with network and SIM "
    "toolkit updated, then retry.",
    "phone_unreachable": "Ask the customer to check their phone is on with network, then retry.",
    "wrong_pin": _RETRY,
    "merchant_misconfigured": _CHECK_SETUP,
    "pin_locked": "The customer must call Safaricom to unlock the PIN; nothing to do here.",
    "bad_debt_contract": "The customer's line is barred by Safaricom (Fuliza debt): another "
    "line or payment method.",
    "unknown_result": "Look at the result code on the callback; if money left the customer's "
    "account, run reconciliation for the day to match it.",
    "daraja_rejected": _CHECK_SETUP,
    "daraja_unavailable": "M-Pesa could not be reached: check the Daraja status and retry later.",
    "no_response": "Run reconciliation (or refresh the payment) before telling the customer "
    "it failed: a late success is settled automatically.",
    "amount_mismatch": "Held: M-Pesa proved a different amount. Compare the receipt with the "
    "order, then accept or reject the payment under review.",
    "phone_mismatch": "Held: another phone paid. Confirm with the customer who paid, then "
    "accept or reject the payment under review.",
    "contradiction_ignored": "A later answer disagreed with the final status and was ignored; "
    "check the receipt in the M-Pesa portal if the customer disputes it.",
}

_HELD_TELL = (
    "Your payment was received but needs a quick check by our team; we will confirm it shortly."
)


@dataclass(frozen=True)
class Guidance:
    tell_customer: str
    staff_can: str


def for_reason(reason: str) -> Guidance:
    """Guidance for a failure or hold reason; an unknown reason gets the generic advice."""
    held = reason.removeprefix("held_")
    if held in ("amount_mismatch", "phone_mismatch"):
        return Guidance(tell_customer=_HELD_TELL, staff_can=_STAFF_CAN[held])
    return Guidance(
        tell_customer=messages.for_reason(reason),
        staff_can=_STAFF_CAN.get(reason, _STAFF_CAN["unknown_result"]),
    )


def for_verdict(verdict: str) -> Guidance:
    """Guidance for a reconciliation verdict that opened an exception."""
    texts = {
        "missing_in_mpesa": "M-Pesa has no record of a payment we counted as paid: check the "
        "receipt in the M-Pesa portal before anything ships; resolve the exception.",
        "unmatched_mpesa": "Money arrived that no payment claims: attach it to the right "
        "payment or mark it for refund.",
        "amount_mismatch": "M-Pesa's amount differs from ours: confirm with the customer, then "
        "accept or refund the difference.",
        "duplicate_receipt": "One receipt is claimed twice: keep it on the right payment and "
        "resolve the other.",
        "paid_twice": "The customer paid twice for one thing: refund one of the payments.",
    }
    return Guidance(
        tell_customer="We are checking this payment with M-Pesa and will get back to you.",
        staff_can=texts.get(verdict, "Open the reconciliation exception and resolve it."),
    )
