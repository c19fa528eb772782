"""Optional confirm-by-query: without an allow-list, a success callback is credited only once
STK Query agrees."""

from __future__ import annotations

from typing import Any

import httpx

CONFIRM = {"CALLBACK_CONFIRM_BY_QUERY": True, "CALLBACK_CONFIRM_RETRY_S": 2}


def forged_success(checkout_request_id: str, *, amount: int, phone: str) -> dict[str, Any]:
    return {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": "29115-34620561-1",
                "CheckoutRequestID": checkout_request_id,
                "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "CallbackMetadata": {
                    "Item": [
                        {"Name": "Amount", "Value": amount},
                        {"Name": "MpesaReceiptNumber", "Value": "UFORGED001"},
                        {"Name": "PhoneNumber", "Value": int(phone)},
                    ]
                },
            }
        }
    }


async def test_confirmed_success_completes_and_unconfirmed_one_is_held(make_stack: Any) -> None:
    async with make_stack(gateway=CONFIRM) as stack:
        genuine = (await stack.pay(stack.phone("100"), 310)).json()
        completed = await stack.receiver.wait_for(genuine["id"], "payment.completed")
        assert completed[0]["data"]["receipt_number"]
        timeline = await stack.events(genuine["id"])
        assert timeline[-1]["detail"]["confirmed_by_query"] is True

        # A success nobody paid: the token is right (taken from the push), the query never is.
        phone = stack.phone("010")
        forged = (await stack.pay(phone, 320)).json()
        url = (await stack.pushes(phone))[0]["body"]["CallBackURL"]
        async with httpx.AsyncClient() as client:
            body = forged_success(
                forged["checkout_request_id"], amount=320, phone="254" + phone[1:]
            )
            assert (await client.post(url, json=body)).status_code == 200
        assert await stack.callbacks_processed(forged["id"]) == ["held"]
        payment = await stack.payment(forged["id"])
        assert (payment["status"], payment["review_reason"]) == ("sent", "unconfirmed")
        queries = [
            q
            for q in await stack.sim_requests("stk_query")
            if q["body"]["CheckoutRequestID"] == forged["checkout_request_id"]
        ]
        assert len(queries) >= 5  # asked on every try before giving up


async def test_query_that_disagrees_holds_the_payment(make_stack: Any) -> None:
    # `009`: the callback says paid and the (buggy sandbox) query says cancelled: an operator
    # decides, the money is neither credited nor lost.
    async with make_stack(gateway=CONFIRM) as stack:
        created = (await stack.pay(stack.phone("009"), 330)).json()
        assert await stack.callbacks_processed(created["id"]) == ["held"]
        payment = await stack.payment(created["id"])
        assert payment["review_reason"] == "query_disagrees"
        assert payment["status"] != "completed"
