"""Callbacks as someone who learned a callback URL could write them, and the steps of a payment
whose callbacks the tests send themselves."""

from __future__ import annotations

import uuid
from typing import Any

# The simulated customer waits for the test (approve, cancel) up to a minute, scaled.
WAITING_CUSTOMER = {"PROMPT_WINDOW_S": 6000}
QUERY_PATH = "/mpesa/stkpushquery/v1/query"


def stk_callback(
    checkout_request_id: str,
    *,
    code: int | str = 0,
    desc: str = "The service request is processed successfully.",
    amount: int | None = None,
    receipt: str | None = None,
    phone: int | None = None,
) -> dict[str, Any]:
    """A callback as someone who learned its URL could write it: metadata items only if given."""
    items = [
        {"Name": name, "Value": value}
        for name, value in (("Amount", amount), ("MpesaReceiptNumber", receipt))
        if value is not None
    ]
    if phone is not None:
        items.append({"Name": "PhoneNumber", "Value": phone})
    callback: dict[str, Any] = {
        "MerchantRequestID": "29115-34620561-1",
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": code,
        "ResultDesc": desc,
    }
    if items:
        callback["CallbackMetadata"] = {"Item": items}
    return {"Body": {"stkCallback": callback}}


def invented_receipt() -> str:
    return "UF" + uuid.uuid4().hex[:8].upper()


def msisdn(phone: str) -> int:
    return int("254" + phone[1:])


async def open_payment(
    stack: Any, amount: int, phone: str | None = None
) -> tuple[dict[str, Any], str, str]:
    """A `sent` payment (by default one whose customer never answers, `010`, so STK Query says
    "being processed" for ever), its phone and its real callback URL."""
    phone = phone or stack.phone("010")
    created = (await stack.pay(phone, amount)).json()
    assert created["status"] == "sent"
    return created, phone, await stack.callback_url(phone)


async def waiting_customer(stack: Any, amount: int) -> tuple[dict[str, Any], str, str]:
    """A payment whose customer answers only when the test says so."""
    phone = stack.phone()
    response = await stack.simulator.put(
        f"/simulator/behaviours/{msisdn(phone)}", json={"behaviour": "manual"}
    )
    assert response.status_code == 200, response.text
    return await open_payment(stack, amount, phone)


async def answer_prompt(stack: Any, checkout_request_id: str, verb: str) -> None:
    response = await stack.simulator.post(f"/simulator/prompts/{checkout_request_id}/{verb}")
    assert response.status_code == 200, response.text


async def queries_for(stack: Any, checkout_request_id: str) -> int:
    return len(
        [
            q
            for q in await stack.sim_requests("stk_query")
            if q["body"]["CheckoutRequestID"] == checkout_request_id
        ]
    )
