"""Every sentence shown to a payer (a payment's `customer_message`), in one place.

Written for the person holding the phone: full sentences, no protocol words (Daraja, STK,
ResultCode, callback, API). Daraja's result codes map to a stable reason in
`integrations/daraja/catalogue.py`; the sentence for each reason lives here.
"""

from __future__ import annotations

PENDING = "We are sending an M-Pesa prompt to your phone."
RETRYING = "M-Pesa is slow to respond; the prompt will reach your phone shortly."
PAID = "Payment received. Thank you."

_TRY_AGAIN = "No money was taken. Please try again."
_MERCHANT_MISCONFIGURED = (
    "This merchant cannot receive M-Pesa payments right now. No money was taken. Please contact "
    "the merchant."
)

BY_REASON: dict[str, str] = {
    "paid": PAID,
    "processing": "Check your phone and enter your M-Pesa PIN to complete the payment.",
    "insufficient_funds": "Your M-Pesa balance is not enough for this payment. Top up your "
    "M-Pesa account and try again.",
    "amount_limit": "M-Pesa declined this amount: it is below the minimum M-Pesa allows. No "
    "money was taken.",
    "amount_above_maximum": "M-Pesa declined this amount: it is above the most you can pay in "
    "one transaction. No money was taken.",
    "daily_limit_exceeded": "M-Pesa declined this payment because it would go over your daily "
    "M-Pesa limit. No money was taken.",
    "merchant_balance_limit": "M-Pesa could not complete this payment to the merchant's account "
    "right now. No money was taken. Please try again later.",
    "duplicate_within_2_minutes": "M-Pesa stopped this payment because the same amount was just "
    "requested from your phone. Wait 2 minutes before trying again.",
    "system_busy": "M-Pesa is busy right now. No money was taken. Please try again in a few "
    "minutes.",
    "subscriber_busy": "Another M-Pesa request is already open on your phone. Finish or cancel "
    "it, wait a minute, then try again.",
    "prompt_expired": "The M-Pesa prompt expired before it was completed. " + _TRY_AGAIN,
    "prompt_not_sent": "We could not send the M-Pesa prompt to your phone. " + _TRY_AGAIN,
    "customer_cancelled": "You cancelled the M-Pesa prompt.",
    "prompt_not_delivered": "The M-Pesa prompt did not reach your phone. " + _TRY_AGAIN,
    "phone_unreachable": "We could not reach your phone. Make sure it is on and has network, "
    "then try again.",
    "wrong_pin": "The M-Pesa PIN entered was wrong. No money was taken. Please try again.",
    "merchant_misconfigured": _MERCHANT_MISCONFIGURED,
    "pin_locked": "Your M-Pesa PIN is locked. Call Safaricom on 100 or 200 to unlock it, then "
    "try again.",
    "bad_debt_contract": "M-Pesa declined this payment for your line. No money was taken. Call "
    "Safaricom on 100 for help.",
    "unknown_result": "The payment did not go through. " + _TRY_AGAIN,
    "daraja_rejected": "We could not start the M-Pesa payment. No money was taken. Please try "
    "again later.",
    "daraja_unavailable": "We could not reach M-Pesa to send the prompt. No money was taken. "
    "Please try again later.",
    "no_response": "We did not get an answer from M-Pesa in time. If money left your account it "
    "will be matched to this payment; otherwise please try again.",
}


REFUND_PENDING = "Your payment is being refunded to your M-Pesa account."
REFUND_FAILED = (
    "We could not refund this payment automatically. Our team will contact you about your refund."
)
REJECTED_IN_REVIEW = (
    "This payment could not be accepted. If money left your M-Pesa account, our team will refund "
    "it. You can pay again."
)


def refunded(amount: int) -> str:
    return f"KES {amount:,} was refunded to your M-Pesa account."


def for_reason(reason: str) -> str:
    """The sentence for a reason code; an unknown reason reads as a failure to try again."""
    return BY_REASON.get(reason, BY_REASON["unknown_result"])


def sent(amount: int) -> str:
    return f"Check your phone and enter your M-Pesa PIN to pay KES {amount:,}."


def paid(receipt: str | None) -> str:
    return f"Payment received. M-Pesa receipt {receipt}." if receipt else PAID
