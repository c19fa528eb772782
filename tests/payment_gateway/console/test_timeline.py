"""`GET /v1/console/payments/{id}/timeline` over the whole stack: a payment pushed, polled while
the customer is still deciding, called back three times, delivered to its subscriber and
reconciled reads as one time-ordered story; a failure carries guidance; the phone is masked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.payment_gateway.stack import AUTH, LOOPBACK_ALLOW_LIST, GatewayStack, StackFactory

STAFF = {**AUTH, "X-Acting-User": "staff:3f0c1c1e"}
# The customer answers after 1.5 s; the first poll comes at 0.2 s and finds the prompt open.
SLOW_CUSTOMER = {"CUSTOMER_RESPONSE_DELAY_S": 150, "PROMPT_WINDOW_S": 600}
EARLY_POLL = {
    **LOOPBACK_ALLOW_LIST,
    "POLL_SCHEDULE_S": [20, 600],
    "RECONCILIATION_PULL_NOMINATED_NUMBER": "0722000000",
}


async def timeline(stack: GatewayStack, payment_id: str) -> dict[str, Any]:
    response = await stack.client.get(f"/v1/console/payments/{payment_id}/timeline", headers=STAFF)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def reconcile(stack: GatewayStack) -> None:
    now = datetime.now(UTC)
    body = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(minutes=5)).isoformat(),
        "sources": ["pull"],
    }
    response = await stack.client.post("/v1/reconciliation/runs", json=body, headers=AUTH)
    assert response.status_code == 202, response.text
    run_id = response.json()["id"]

    async def ended() -> bool:
        run = (await stack.client.get(f"/v1/reconciliation/runs/{run_id}", headers=AUTH)).json()
        return bool(run["status"] in ("completed", "failed"))

    await stack.until(ended, what=f"run {run_id} to end")


async def test_pushed_polled_called_back_thrice_delivered_and_reconciled(
    make_stack: StackFactory,
) -> None:
    async with make_stack(simulator=SLOW_CUSTOMER, gateway=EARLY_POLL) as stack:
        phone = stack.phone("006")  # the simulator sends its callback three times
        created = (await stack.pay(phone, 250)).json()
        await stack.receiver.wait_for(created["id"], "payment.completed")

        async def resent_twice() -> bool:
            resends = await stack.scalar(
                "SELECT max(resends) FROM gateway.callback_inbox WHERE payment_id = :id",
                id=created["id"],
            )
            return bool(resends == 2)

        await stack.until(resent_twice, what="the callback's two resends")
        await reconcile(stack)

        async def delivered() -> dict[str, Any] | None:
            body = await timeline(stack, created["id"])
            kinds = [e["kind"] for e in body["entries"]]
            return body if kinds.count("delivery") >= 2 else None

        body = await stack.until(delivered, what="both deliveries on the timeline")

    entries = body["entries"]
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    story = [(e["kind"], e["status"]) for e in entries if e["kind"] == "event"]
    assert story == [("event", "pending"), ("event", "sent"), ("event", "completed")]
    kinds = [e["kind"] for e in entries]
    # The poll found the prompt still open, before the callback settled the payment.
    poll = next(e for e in entries if e["kind"] == "poll")
    assert poll["result_code"] is None
    assert "still processing" in poll["summary"]
    assert kinds.index("poll") < kinds.index("callback")
    callbacks = [e for e in entries if e["kind"] == "callback"]
    assert len(callbacks) == 1  # identical resends are one stored callback...
    assert callbacks[0]["detail"]["resends"] == 2  # ...received three times
    assert "received 3 times" in callbacks[0]["summary"]
    assert callbacks[0]["result_code"] == "0"
    items = callbacks[0]["detail"]["body"]["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    sent_phone = next(i["Value"] for i in items if i["Name"] == "PhoneNumber")
    assert sent_phone == "254*****" + phone[-4:]
    assert phone[-9:] not in str(items)
    deliveries = [e for e in entries if e["kind"] == "delivery"]
    assert [d["summary"].split(" ")[0] for d in deliveries] == ["payment.sent", "payment.completed"]
    assert all(d["detail"]["status_code"] == 204 for d in deliveries)
    verdicts = [e for e in entries if e["kind"] == "reconciliation"]
    assert [v["reason"] for v in verdicts] == ["matched"]
    assert kinds[-1] == "reconciliation"
    assert not any(e["failure"] for e in entries)
    assert body["verdict"] == "matched"
    assert body["payment"]["phone"] == "254*****" + phone[-4:]


async def test_a_failure_tells_staff_what_to_say_and_do(stack: GatewayStack) -> None:
    created = (await stack.pay(stack.phone("001"), 130)).json()  # the customer cancels
    await stack.wait_status(created["id"], "cancelled")

    body = await timeline(stack, created["id"])

    failures = [e for e in body["entries"] if e["failure"]]
    cancelled = next(e for e in failures if e["kind"] == "event")
    assert cancelled["reason"] == "customer_cancelled"
    assert cancelled["guidance"]["tell_customer"] == "You cancelled the M-Pesa prompt."
    assert "pay again" in cancelled["guidance"]["staff_can"]
    assert all(e["guidance"] for e in failures)


async def test_the_acting_user_is_required(stack: GatewayStack) -> None:
    created = (await stack.pay(stack.phone(), 140)).json()

    response = await stack.client.get(
        f"/v1/console/payments/{created['id']}/timeline", headers=AUTH
    )

    assert response.status_code == 422
    assert "x-acting-user" in response.text.lower()


async def test_facts_name_hold_verdict_and_environment(stack: GatewayStack) -> None:
    created = (await stack.pay(stack.phone(), 150)).json()
    await stack.wait_status(created["id"], "completed")
    unknown = "00000000-0000-4000-8000-000000000000"

    response = await stack.client.post(
        "/v1/console/payments/facts", json={"ids": [created["id"], unknown]}, headers=STAFF
    )

    assert response.status_code == 200, response.text
    (fact,) = response.json()
    assert fact["id"] == created["id"]
    assert fact["environment"] == "sandbox"
    assert fact["review_reason"] is None
    assert fact["phone"].startswith("254*****")
