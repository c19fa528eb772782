"""M-Pesa Express answers, with Daraja's field names on the wire."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class StkPushAccepted(_Wire):
    """The push was accepted for processing (not paid: the outcome comes later)."""

    merchant_request_id: str = Field(alias="MerchantRequestID")
    checkout_request_id: str = Field(alias="CheckoutRequestID")
    response_code: str = Field(default="0", alias="ResponseCode")
    response_description: str = Field(
        default="Success. Request accepted for processing", alias="ResponseDescription"
    )
    customer_message: str = Field(
        default="Success. Request accepted for processing", alias="CustomerMessage"
    )


class StkQueryResult(_Wire):
    """A query answer. `ResultCode` is a string here, unlike in the callback."""

    response_code: str = Field(default="0", alias="ResponseCode")
    response_description: str = Field(
        default="The service request has been accepted successfully", alias="ResponseDescription"
    )
    merchant_request_id: str = Field(alias="MerchantRequestID")
    checkout_request_id: str = Field(alias="CheckoutRequestID")
    result_code: str = Field(alias="ResultCode")
    result_desc: str = Field(alias="ResultDesc")


STK_PUSH_EXAMPLE = {
    "BusinessShortCode": 174379,
    "Password": (
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGEx"
        "ZWQyYzkxOTIwMjEwNjI4MDkyNDA4"
    ),
    "Timestamp": "20210628092408",
    "TransactionType": "CustomerPayBillOnline",
    "Amount": "1",
    "PartyA": "254708374149",
    "PartyB": "174379",
    "PhoneNumber": "254708374149",
    "CallBackURL": "https://example.com/callbacks/stk/abc",
    "AccountReference": "accountref",
    "TransactionDesc": "txndesc",
}

STK_QUERY_EXAMPLE = {
    "BusinessShortCode": "174379",
    "Password": (
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGEx"
        "ZWQyYzkxOTIwMTYwMjE2MTY1NjI3"
    ),
    "Timestamp": "20160216165627",
    "CheckoutRequestID": "ws_CO_13012021093521236557",
}
