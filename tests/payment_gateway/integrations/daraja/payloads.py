"""STK callback bodies as Daraja sends them, for the parser's tests."""

from typing import Any


def callback(result_code: Any = 0, items: list[Any] | None = None) -> dict[str, Any]:
    stk: dict[str, Any] = {
        "MerchantRequestID": "m-1",
        "CheckoutRequestID": "ws_CO_1",
        "ResultCode": result_code,
        "ResultDesc": "desc",
    }
    if items is not None:
        stk["CallbackMetadata"] = {"Item": items}
    return {"Body": {"stkCallback": stk}}
