"""Review over HTTP: a payment held because its callback's amount disagreed is accepted or
rejected by a named person; subscribers hear the outcome as for any payment."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.payment_gateway.callback.test_receiver import open_payment, success_body
from tests.payment_gateway.stack import AUTH, GatewayStack

STAFF_ID = "8d1c0b5e-0000-4000-8000-000000000002"
STAFF = {**AUTH, "X-Acting-User": f"user:{STAFF_ID}"}


async def held(stack: GatewayStack, receipt: str) -> dict[str, Any]:
    created, url = await open_payment(stack, amount=250)
    phone = int(
        await stack.scalar("SELECT phone FROM gateway.payment WHERE id = :id", id=created["id"])
    )
    async with httpx.AsyncClient() as client:
        await client.post(
            url,
            json=success_body(
                created["checkout_request_id"], amount=25, phone=phone, receipt=receipt
            ),
        )
    assert await stack.callbacks_processed(created["id"]) == ["held"]
    return created


async def review(stack: GatewayStack, payment_id: str, decision: str) -> httpx.Response:
    return await stack.client.post(
        f"/v1/payments/{payment_id}/review",
        json={"decision": decision, "note": "customer sent the statement"},
        headers=STAFF,
    )


async def test_accepted_completes_and_subscribers_hear_it(
    allow_listed_stack: GatewayStack,
) -> None:
    stack = allow_listed_stack
    created = await held(stack, "UAR1CD2EF3")

    response = await review(stack, created["id"], "accept")

    assert response.status_code == 200, response.text
    payment = response.json()
    assert (payment["status"], payment["review_reason"]) == ("completed", None)
    assert payment["receipt_number"] == "UAR1CD2EF3"
    await stack.receiver.wait_for(created["id"], "payment.completed")
    decision = next(
        t for t in await stack.events(created["id"]) if t["reason"] == "review_accepted"
    )
    assert (decision["source"], decision["actor"]) == ("admin", f"user:{STAFF_ID}")
    assert decision["note"] == "customer sent the statement"
    audited = await stack.client.get(
        "/v1/audit",
        params={"action": "payment.reviewed", "subject": f"payment:{created['id']}"},
        headers=AUTH,
    )
    [entry] = audited.json()["items"]
    assert entry["actor"] == f"user:{STAFF_ID}"
    assert entry["details"] == {
        "decision": "accept",
        "review_reason": "amount_mismatch",
        "status": "completed",
        "via": entry["details"]["via"],
    }
    assert entry["details"]["via"]


async def test_rejected_fails_and_deciding_again_names_the_state(
    allow_listed_stack: GatewayStack,
) -> None:
    stack = allow_listed_stack
    created = await held(stack, "UAR1CD2EF4")

    response = await review(stack, created["id"], "reject")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["reason"]) == (
        "failed",
        "rejected_in_review",
    )
    await stack.receiver.wait_for(created["id"], "payment.failed")

    again = await review(stack, created["id"], "accept")
    assert again.status_code == 409
    assert again.json()["error"] == "NotHeldForReview"
    assert "is failed" in again.json()["detail"]


@pytest.mark.parametrize(
    "body", [{"decision": "maybe", "note": "x"}, {"decision": "accept", "note": ""}, {}]
)
async def test_a_decision_names_what_is_accepted(stack: GatewayStack, body: dict[str, Any]) -> None:
    created = (await stack.pay(stack.phone("010"), 130)).json()

    response = await stack.client.post(
        f"/v1/payments/{created['id']}/review", json=body, headers=STAFF
    )

    assert response.status_code == 422
