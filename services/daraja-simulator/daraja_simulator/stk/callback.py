"""The STK callback body."""

from __future__ import annotations

import json
from typing import Any

from daraja_simulator.clock import daraja_timestamp
from daraja_simulator.stk.repository import Checkout

# A marker replaced by the literal amount, so the callback carries `1.00` like Safaricom's
# rather than the `1.0` a float would give (and no float ever holds an amount).
_AMOUNT_MARKER = "\x00amount\x00"


def callback_document(checkout: Checkout, *, include_balance: bool) -> str:
    """The STK callback body exactly as Safaricom sends it (numeric ResultCode, metadata only on
    success, a `Balance` item with no value)."""
    assert checkout.outcome is not None
    callback: dict[str, Any] = {
        "MerchantRequestID": checkout.merchant_request_id,
        "CheckoutRequestID": checkout.checkout_request_id,
        "ResultCode": checkout.outcome.result_code,
        "ResultDesc": checkout.outcome.result_desc,
    }
    if checkout.outcome.result_code == 0:
        assert checkout.receipt is not None and checkout.completed_at is not None
        items: list[dict[str, Any]] = [
            {"Name": "Amount", "Value": _AMOUNT_MARKER},
            {"Name": "MpesaReceiptNumber", "Value": checkout.receipt},
        ]
        if include_balance:
            items.append({"Name": "Balance"})
        items += [
            {"Name": "TransactionDate", "Value": int(daraja_timestamp(checkout.completed_at))},
            {"Name": "PhoneNumber", "Value": int(checkout.phone)},
        ]
        callback["CallbackMetadata"] = {"Item": items}
    text = json.dumps({"Body": {"stkCallback": callback}})
    return text.replace(json.dumps(_AMOUNT_MARKER), f"{checkout.amount}.00", 1)
