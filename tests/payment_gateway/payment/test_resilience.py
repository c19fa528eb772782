"""Starting a payment through Daraja outages, spike arrest and token trouble during initiation."""

from __future__ import annotations

from typing import Any

import httpx

from payment_gateway.main import create_app
from shared.serving import serve_app

PUSH_PATH = "/mpesa/stkpush/v1/processrequest"


async def test_outage_leaves_pending_then_pushes_exactly_once(stack: Any) -> None:
    await stack.fault(kind="outage", count=3, path=PUSH_PATH)
    phone = stack.phone("100")
    response = await stack.pay(phone, 120)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "pending"
    assert created["checkout_request_id"] is None
    assert "shortly" in created["customer_message"]

    await stack.receiver.wait_for(created["id"], "payment.completed")
    pushes = await stack.pushes(phone)
    assert [p["fault"] for p in pushes] == ["outage", "outage", "outage", None]
    assert [p["status"] for p in pushes] == [503, 503, 503, 200]
    payment = await stack.payment(created["id"])
    assert payment["status"] == "completed"
    assert payment["checkout_request_id"].startswith("ws_CO_")
    timeline = await stack.events(created["id"])
    sent = next(t for t in timeline if t["to_status"] == "sent")
    assert (sent["source"], sent["detail"]["attempt"]) == ("system", 4)
    assert stack.receiver.types(created["id"]) == ["payment.sent", "payment.completed"]


async def test_outage_that_outlasts_the_retries_fails_the_payment(make_stack: Any) -> None:
    async with make_stack(gateway={"PUSH_MAX_ATTEMPTS": 3}) as stack:
        await stack.fault(kind="outage", path=PUSH_PATH)
        created = (await stack.pay(stack.phone("100"), 121)).json()
        failed = await stack.receiver.wait_for(created["id"], "payment.failed")
        assert failed[0]["data"]["reason"] == "daraja_unavailable"
        assert len(await stack.sim_requests("stk_push")) == 3
        assert stack.receiver.types(created["id"]) == ["payment.failed"]


async def test_spike_arrest_backs_off_then_succeeds(stack: Any) -> None:
    await stack.fault(kind="spike_arrest", count=1, path=PUSH_PATH)
    phone = stack.phone("100")
    created = (await stack.pay(phone, 122)).json()
    assert created["status"] == "pending"
    await stack.receiver.wait_for(created["id"], "payment.completed")
    pushes = await stack.pushes(phone)
    assert [p["status"] for p in pushes] == [500, 200]
    retried_at = await stack.scalar(
        "SELECT at FROM gateway.payment_event WHERE payment_id = :id AND to_status = 'sent'",
        id=created["id"],
    )
    created_at = await stack.scalar(
        "SELECT created_at FROM gateway.payment WHERE id = :id", id=created["id"]
    )
    # Spike arrest asks for 5 s (scaled by TIME_SCALE 0.01): the retry waited at least that.
    assert (retried_at - created_at).total_seconds() >= 0.05


async def test_rejected_push_fails_with_daraja_rejected(make_stack: Any) -> None:
    async with make_stack(gateway={"DARAJA_SHORTCODE": "600999"}) as stack:
        created = (await stack.pay(stack.phone("100"), 123)).json()
        assert created["status"] == "failed"
        assert created["reason"] == "daraja_rejected"
        assert created["result_code"] == "500.001.1001"
        assert "No money was taken" in created["customer_message"]
        await stack.receiver.wait_for(created["id"], "payment.failed")


async def test_invalidated_token_is_refreshed_once(make_stack: Any) -> None:
    async with make_stack() as stack:
        first = (await stack.pay(stack.phone("100"), 124)).json()
        assert first["status"] in ("sent", "completed")
        response = await stack.simulator.post("/simulator/tokens/invalidate")
        assert response.status_code == 200
        second = (await stack.pay(stack.phone("100"), 125)).json()
        assert second["status"] in ("sent", "completed")
        pushes = await stack.sim_requests("stk_push")
        assert [p["status"] for p in pushes] == [200, 404, 200]
        assert len(await stack.sim_requests("oauth")) == 2


async def test_two_gateway_processes_share_one_token(make_stack: Any) -> None:
    async with make_stack() as stack:
        async with (
            serve_app(create_app(stack.settings)) as other_url,
            httpx.AsyncClient(base_url=other_url) as other,
        ):
            headers = {"Authorization": f"Bearer {stack.settings.API_KEYS[0].get_secret_value()}"}
            results = []
            for index, client in enumerate((stack.client, other, stack.client, other)):
                response = await client.post(
                    "/v1/payments",
                    json={
                        "amount": 130 + index,
                        "phone": stack.phone("100"),
                        "account_reference": "ACC-2",
                        "description": "Two processes",
                    },
                    headers={**headers, "Idempotency-Key": f"two-processes-{index}"},
                )
                results.append(response.json()["status"])
        assert all(status in ("sent", "completed") for status in results)
        assert len(await stack.sim_requests("oauth")) == 1
