"""The callback receiver trusts nothing it cannot check. What a forged callback from
outside the allow-list changes (nothing) is in `test_confirmation.py`; here callbacks that are
believed (from the allow-list) are still checked against what was asked."""

from __future__ import annotations

import json
from typing import Any

import httpx


def success_body(
    checkout_request_id: str, *, amount: Any, phone: int, receipt: str
) -> dict[str, Any]:
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
                        {"Name": "MpesaReceiptNumber", "Value": receipt},
                        {"Name": "Balance"},
                        {"Name": "TransactionDate", "Value": 20261122101502},
                        {"Name": "PhoneNumber", "Value": phone},
                    ]
                },
            }
        }
    }


def failure_body(checkout_request_id: str, code: int = 1032) -> dict[str, Any]:
    return {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": "29115-34620561-1",
                "CheckoutRequestID": checkout_request_id,
                "ResultCode": code,
                "ResultDesc": "Request cancelled by user",
            }
        }
    }


async def open_payment(stack: Any, amount: int = 250) -> tuple[dict[str, Any], str]:
    """A `sent` payment whose customer never answers (`010`), and its real callback URL."""
    phone = stack.phone("010")
    created = (await stack.pay(phone, amount)).json()
    assert created["status"] == "sent"
    await stack.receiver.wait_for(created["id"], "payment.sent")
    pushes = await stack.sim_requests("stk_push")
    url = next(
        r["body"]["CallBackURL"] for r in pushes if r["body"]["PhoneNumber"] == "254" + phone[1:]
    )
    return created, url


async def test_unknown_token_is_404_and_changes_nothing(stack: Any) -> None:
    created, url = await open_payment(stack)
    wrong = url[: -len("deadbeef")] + "deadbeef"
    async with httpx.AsyncClient() as client:
        for target in (wrong, f"{stack.gateway_url}/v1/callbacks/stk/not-a-token"):
            response = await client.post(
                target,
                json=success_body(
                    created["checkout_request_id"],
                    amount=250,
                    phone=254700000000,
                    receipt="UAA0000001",
                ),
            )
            assert response.status_code == 404
            assert response.json()["error"] == "UnknownCallback"
    assert (await stack.payment(created["id"]))["status"] == "sent"
    assert (
        await stack.scalar(
            "SELECT count(*) FROM gateway.callback_inbox WHERE payment_id = :id",
            id=created["id"],
        )
        == 0
    )


async def test_amount_mismatch_is_held_not_completed(allow_listed_stack: Any) -> None:
    stack = allow_listed_stack
    created, url = await open_payment(stack, amount=250)
    phone = int(
        await stack.scalar("SELECT phone FROM gateway.payment WHERE id = :id", id=created["id"])
    )
    async with httpx.AsyncClient() as client:
        response = await client.post(
            url,
            json=success_body(
                created["checkout_request_id"], amount=25.0, phone=phone, receipt="UAB1CD2EF3"
            ),
        )
    assert response.status_code == 200
    assert response.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    assert await stack.callbacks_processed(created["id"]) == ["held"]
    payment = await stack.payment(created["id"])
    assert payment["status"] == "sent"
    assert payment["review_reason"] == "amount_mismatch"
    assert payment["receipt_number"] is None
    timeline = await stack.events(created["id"])
    assert timeline[-1]["reason"] == "held_amount_mismatch"
    assert timeline[-1]["detail"]["receipt_number"] == "UAB1CD2EF3"
    assert stack.receiver.types(created["id"]) == ["payment.sent"]
    # A held payment is not polled any more: the next query would be ignored anyway.
    assert (
        await stack.scalar(
            "SELECT next_check_at FROM gateway.payment WHERE id = :id", id=created["id"]
        )
        is None
    )
    # Nor does it lock its payer out of paying again.
    phone_again = "0" + str(phone)[3:]
    assert (await stack.pay(phone_again, 251)).status_code == 201

    # A later callback that proves the real outcome settles it and ends the hold.
    async with httpx.AsyncClient() as client:
        response = await client.post(
            url,
            json=success_body(
                created["checkout_request_id"], amount=250, phone=phone, receipt="UAB1CD2EF9"
            ),
        )
    assert response.status_code == 200
    assert await stack.callbacks_processed(created["id"], 2) == ["held", "applied"]
    payment = await stack.payment(created["id"])
    assert (payment["status"], payment["review_reason"]) == ("completed", None)
    assert payment["receipt_number"] == "UAB1CD2EF9"
    reasons = [t["reason"] for t in await stack.events(created["id"])]
    assert reasons[-2:] == ["hold_released", None]


async def test_phone_mismatch_is_held(allow_listed_stack: Any) -> None:
    stack = allow_listed_stack
    created, url = await open_payment(stack, amount=260)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            url,
            json=success_body(
                created["checkout_request_id"],
                amount=260,
                phone=254799999999,
                receipt="UAB1CD2EF4",
            ),
        )
    assert response.status_code == 200
    assert await stack.callbacks_processed(created["id"]) == ["held"]
    payment = await stack.payment(created["id"])
    assert (payment["status"], payment["review_reason"]) == ("sent", "phone_mismatch")


async def test_identical_duplicate_is_a_no_op_and_contradiction_is_kept(
    allow_listed_stack: Any,
) -> None:
    stack = allow_listed_stack
    created, url = await open_payment(stack, amount=270)
    phone = int(
        await stack.scalar("SELECT phone FROM gateway.payment WHERE id = :id", id=created["id"])
    )
    body = success_body(
        created["checkout_request_id"], amount=270.00, phone=phone, receipt="UAB1CD2EF5"
    )
    async with httpx.AsyncClient() as client:
        first = await client.post(url, json=body)
        # Same JSON, other whitespace and key order: still the same callback.
        again = await client.post(
            url,
            content=json.dumps(body, indent=2, sort_keys=True),
            headers={"content-type": "application/json"},
        )
        assert await stack.callbacks_processed(created["id"]) == ["applied"]
        contradicting = await client.post(url, json=failure_body(created["checkout_request_id"]))
    assert [r.status_code for r in (first, again, contradicting)] == [200, 200, 200]
    assert await stack.callbacks_processed(created["id"], 2) == ["applied", "contradiction"]
    payment = await stack.payment(created["id"])
    assert (payment["status"], payment["receipt_number"]) == ("completed", "UAB1CD2EF5")
    await stack.receiver.wait_for(created["id"], "payment.completed")
    assert stack.receiver.types(created["id"]) == ["payment.sent", "payment.completed"]


async def test_unparseable_body_is_stored_and_acknowledged(stack: Any) -> None:
    created, url = await open_payment(stack)
    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=b"<html>not json</html>")
    assert response.status_code == 200
    assert await stack.callbacks_processed(created["id"]) == ["invalid"]
    assert (await stack.payment(created["id"]))["status"] == "sent"


async def test_source_outside_allow_list_is_refused(make_stack: Any) -> None:
    async with make_stack(gateway={"CALLBACK_ALLOWED_CIDRS": ["196.201.214.0/24"]}) as stack:
        created, url = await open_payment(stack)
        phone = int(
            await stack.scalar("SELECT phone FROM gateway.payment WHERE id = :id", id=created["id"])
        )
        body = success_body(
            created["checkout_request_id"], amount=250, phone=phone, receipt="UAB1CD2EF6"
        )
        async with stack.client_from("41.90.1.2") as client:
            refused = await client.post(url, json=body)
            # Without trusted proxies a client-written X-Forwarded-For proves nothing.
            spoofed = await client.post(
                url, json=body, headers={"X-Forwarded-For": "196.201.214.200"}
            )
        assert refused.status_code == 403
        assert refused.json()["error"] == "CallbackSourceRefused"
        assert spoofed.status_code == 403
        assert (await stack.payment(created["id"]))["status"] == "sent"
        assert await stack.scalar("SELECT count(*) FROM gateway.callback_inbox") == 0
        async with stack.client_from("196.201.214.207") as client:
            accepted = await client.post(url, json=body)
        assert accepted.status_code == 200
        await stack.receiver.wait_for(created["id"], "payment.completed")


async def test_allow_list_behind_a_trusted_proxy(make_stack: Any) -> None:
    gateway = {"CALLBACK_ALLOWED_CIDRS": ["196.201.214.0/24"], "TRUSTED_PROXY_HOPS": 1}
    async with make_stack(gateway=gateway) as stack:
        created, url = await open_payment(stack)
        phone = int(
            await stack.scalar("SELECT phone FROM gateway.payment WHERE id = :id", id=created["id"])
        )
        body = success_body(
            created["checkout_request_id"], amount=250, phone=phone, receipt="UAB1CD2EF7"
        )
        async with stack.client_from("10.0.0.5") as proxy:
            # The proxy appended the address it saw; what the client wrote before it is ignored.
            outside = await proxy.post(
                url, json=body, headers={"X-Forwarded-For": "196.201.214.200, 41.90.1.2"}
            )
            missing = await proxy.post(url, json=body)
            inside = await proxy.post(
                url, json=body, headers={"X-Forwarded-For": "41.90.1.2, 196.201.214.200"}
            )
        assert outside.status_code == 403
        assert missing.status_code == 403
        assert inside.status_code == 200
        await stack.receiver.wait_for(created["id"], "payment.completed")


async def test_receipt_after_a_query_settled_success_reaches_subscribers(stack: Any) -> None:
    phone = stack.phone("005")  # pays, no callback: the first poll settles it without a receipt
    created = (await stack.pay(phone, 280)).json()
    first = await stack.receiver.wait_for(created["id"], "payment.completed")
    assert first[0]["data"]["receipt_number"] is None
    url = (await stack.pushes(phone))[0]["body"]["CallBackURL"]
    body = success_body(
        created["checkout_request_id"],
        amount=280,
        phone=int("254" + phone[1:]),
        receipt="UKQ5LATE01",
    )
    async with httpx.AsyncClient() as client:
        assert (await client.post(url, json=body)).status_code == 200
    updates = await stack.receiver.wait_for(created["id"], "payment.completed", count=2)
    assert (updates[1]["sequence"], updates[1]["data"]["receipt_number"]) == (3, "UKQ5LATE01")
    assert (await stack.payment(created["id"]))["receipt_number"] == "UKQ5LATE01"
    assert (await stack.events(created["id"]))[-1]["reason"] == "receipt_recorded"


async def test_refresh_that_proves_the_outcome_ends_a_hold(allow_listed_stack: Any) -> None:
    stack = allow_listed_stack
    phone = stack.phone("005")  # pays; no callback ever comes from the simulator
    created = (await stack.pay(phone, 290)).json()
    async with httpx.AsyncClient() as client:
        response = await client.post(
            await stack.callback_url(phone),
            json=success_body(
                created["checkout_request_id"],
                amount=29,
                phone=int("254" + phone[1:]),
                receipt="UAB1CD2EFA",
            ),
        )
    assert response.status_code == 200
    assert await stack.callbacks_processed(created["id"]) == ["held"]

    async def reported() -> bool:
        checkout = await stack.checkout(created["checkout_request_id"])
        return bool(checkout["stage"] == "reported")

    await stack.until(reported, what="the simulator to know the payment")
    refreshed = await stack.client.post(
        f"/v1/payments/{created['id']}/refresh",
        headers={"Authorization": f"Bearer {stack.settings.API_KEYS[0].get_secret_value()}"},
    )
    assert refreshed.status_code == 200, refreshed.text
    payment = refreshed.json()
    # Paid, as STK Query proves; the mismatching callback's receipt is not taken.
    assert (payment["status"], payment["review_reason"], payment["receipt_number"]) == (
        "completed",
        None,
        None,
    )
    reasons = [t["reason"] for t in await stack.events(created["id"])]
    assert reasons[-3:] == ["held_amount_mismatch", "hold_released", None]
