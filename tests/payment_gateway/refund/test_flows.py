"""Refunds over HTTP against the simulator: a paid payment is reversed in M-Pesa's ledger and
ends `refunded`, subscribers hear it, asking again sends nothing twice; a refusal and a queue
timeout behave as Daraja's codes say."""

from __future__ import annotations

from typing import Any

from tests.payment_gateway.stack import AUTH, GatewayStack

STAFF_ID = "8d1c0b5e-0000-4000-8000-000000000001"
STAFF = {**AUTH, "X-Acting-User": f"user:{STAFF_ID}"}
REVERSAL = "/mpesa/reversal/v1/request"


async def paid(stack: GatewayStack, amount: int = 300) -> dict[str, Any]:
    created = (await stack.pay(stack.phone("100"), amount)).json()
    payment = await stack.wait_status(created["id"], "completed")
    if payment["receipt_number"] is None:  # settled by a query first; the callback follows
        await stack.receiver.wait_for(created["id"], "payment.completed", count=2)
        payment = await stack.payment(created["id"])
    return payment


async def refund(stack: GatewayStack, payment_id: str, reason: str = "paid twice") -> Any:
    return await stack.client.post(
        f"/v1/payments/{payment_id}/refund", json={"reason": reason}, headers=STAFF
    )


async def reversals_of(stack: GatewayStack, receipt: str) -> list[dict[str, Any]]:
    return [
        r for r in await stack.sim_requests("reversal") if r["body"]["TransactionID"] == receipt
    ]


async def test_a_paid_payment_is_refunded_once(stack: GatewayStack) -> None:
    payment = await paid(stack)

    response = await refund(stack, payment["id"])
    assert response.status_code == 202, response.text
    created = response.json()
    assert created["payment"]["status"] == "refund_pending"
    assert (created["amount"], created["receipt_number"]) == (300, payment["receipt_number"])
    assert created["requested_by"] == f"user:{STAFF_ID}"

    refunded = await stack.wait_status(payment["id"], "refunded")
    [event] = await stack.receiver.wait_for(payment["id"], "payment.refunded")
    assert event["data"]["status"] == "refunded"
    assert refunded["receipt_number"] == payment["receipt_number"]

    again = await refund(stack, payment["id"], reason="clicked twice")
    assert again.status_code == 200
    body = again.json()
    assert (body["id"], body["state"], body["reason"]) == (created["id"], "refunded", "paid twice")
    assert body["reversal_transaction_id"]
    [request] = await reversals_of(stack, payment["receipt_number"])
    assert request["body"]["Amount"] == "300"
    assert request["body"]["CommandID"] == "TransactionReversal"
    timeline = await stack.events(payment["id"])
    assert [t["to_status"] for t in timeline][-2:] == ["refund_pending", "refunded"]
    assert timeline[-2]["actor"] == f"user:{STAFF_ID}"
    audited = await stack.client.get(
        "/v1/audit",
        params={"action": "payment.refund_requested", "subject": f"payment:{payment['id']}"},
        headers=AUTH,
    )
    [entry] = audited.json()["items"]  # asking again requested nothing
    assert entry["actor"] == f"user:{STAFF_ID}"
    assert (entry["details"]["refund_id"], entry["details"]["amount"]) == (created["id"], 300)
    assert "paid twice" not in str(entry)
    assert stack.receiver.types(payment["id"])[-2:] == [
        "payment.refund_pending",
        "payment.refunded",
    ]


async def test_a_refusal_ends_refund_failed_with_its_reason(stack: GatewayStack) -> None:
    payment = await paid(stack)
    await stack.fault(kind="result_code", result_code="2001", count=1, path=REVERSAL)

    assert (await refund(stack, payment["id"])).status_code == 202

    failed = await stack.wait_status(payment["id"], "refund_failed")
    assert (failed["reason"], failed["result_code"]) == ("initiator_credentials_invalid", "2001")
    await stack.receiver.wait_for(payment["id"], "payment.refund_failed")
    state = (await stack.client.get(f"/v1/payments/{payment['id']}/refund", headers=AUTH)).json()
    assert (state["state"], state["failure_reason"]) == ("failed", "initiator_credentials_invalid")


async def test_a_queue_timeout_is_sent_again(make_stack: Any) -> None:
    async with make_stack(gateway={"REVERSAL_RETRY_BASE_S": 1}) as stack:
        payment = await paid(stack)
        await stack.fault(kind="result_timeout", count=1, path=REVERSAL)

        assert (await refund(stack, payment["id"])).status_code == 202

        await stack.wait_status(payment["id"], "refunded")
        assert len(await reversals_of(stack, payment["receipt_number"])) == 2
        attempts = await stack.scalar(
            "SELECT attempts FROM gateway.refund WHERE payment_id = :id", id=payment["id"]
        )
        assert attempts == 2


async def test_only_a_completed_payment_is_refunded(stack: GatewayStack) -> None:
    created = (await stack.pay(stack.phone("010"), 120)).json()

    response = await refund(stack, created["id"])

    assert response.status_code == 409
    assert response.json()["error"] == "NotRefundable"
    assert "is sent" in response.json()["detail"]


async def test_staff_actions_name_the_person(stack: GatewayStack) -> None:
    payment = await paid(stack)

    response = await stack.client.post(
        f"/v1/payments/{payment['id']}/refund", json={"reason": "x"}, headers=AUTH
    )

    assert response.status_code == 400
    assert response.json()["error"] == "MissingActingUser"
    assert (await stack.payment(payment["id"]))["status"] == "completed"


async def test_a_result_at_an_unknown_address_is_404(stack: GatewayStack) -> None:
    response = await stack.client.post("/v1/callbacks/reversal/deadbeef", json={"Result": {}})

    assert response.status_code == 404
    assert response.json()["error"] == "UnknownReversalUrl"
