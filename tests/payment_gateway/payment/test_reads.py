"""Reading payments: one, a filtered and paginated list, the timeline, and refresh."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

AUTH = {"Authorization": "Bearer test-service-key"}


async def test_unknown_payment_is_404(stack: Any) -> None:
    missing = uuid.uuid4()
    for path in (f"/v1/payments/{missing}", f"/v1/payments/{missing}/events"):
        response = await stack.client.get(path, headers=AUTH)
        assert response.status_code == 404
        assert response.json() == {
            "error": "PaymentNotFound",
            "detail": f"no payment has id {missing}",
        }
    refresh = await stack.client.post(f"/v1/payments/{missing}/refresh", headers=AUTH)
    assert refresh.status_code == 404


async def test_list_filters_and_cursor_pagination(make_stack: Any) -> None:
    async with make_stack() as stack:
        cancelled = (await stack.pay(stack.phone("001"), 101)).json()
        open_phone = stack.phone("010")
        created = [(await stack.pay(stack.phone("010"), 102 + i)).json() for i in range(4)]
        created.append((await stack.pay(open_phone, 200)).json())
        await stack.receiver.wait_for(cancelled["id"], "payment.cancelled")

        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, "status": "sent"}
            if cursor:
                params["cursor"] = cursor
            page = (await stack.client.get("/v1/payments", params=params, headers=AUTH)).json()
            seen += [p["id"] for p in page["items"]]
            assert len(page["items"]) <= 2
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [p["id"] for p in reversed(created)]  # newest first, each once

        by_phone = await stack.client.get(
            "/v1/payments", params={"phone": f"+254 {open_phone[1:]}"}, headers=AUTH
        )
        assert [p["id"] for p in by_phone.json()["items"]] == [created[-1]["id"]]

        by_checkout = await stack.client.get(
            "/v1/payments",
            params={"checkout_request_id": cancelled["checkout_request_id"]},
            headers=AUTH,
        )
        assert [p["status"] for p in by_checkout.json()["items"]] == ["cancelled"]

        several = await stack.client.get(
            "/v1/payments", params=[("status", "cancelled"), ("status", "sent")], headers=AUTH
        )
        assert len(several.json()["items"]) == 6

        first_created = created[0]["created_at"]
        window = await stack.client.get(
            "/v1/payments",
            params={"created_from": first_created, "created_to": created[2]["created_at"]},
            headers=AUTH,
        )
        assert [p["id"] for p in window.json()["items"]] == [created[1]["id"], created[0]["id"]]


async def test_list_by_receipt_number(stack: Any) -> None:
    paid = (await stack.pay(stack.phone("100"), 103)).json()
    completed = await stack.receiver.wait_for(paid["id"], "payment.completed")
    receipt = completed[0]["data"]["receipt_number"]
    response = await stack.client.get(
        "/v1/payments", params={"receipt_number": receipt}, headers=AUTH
    )
    assert [p["id"] for p in response.json()["items"]] == [paid["id"]]


def _cursor(created_at: str) -> str:
    """A cursor as the API encodes one, for a moment of our choosing."""
    raw = json.dumps([created_at, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_bad_list_parameters_are_named(stack: Any) -> None:
    cases = [
        ({"cursor": "not-a-cursor"}, 400, "cursor"),
        ({"phone": "12"}, 400, "phone"),
        ({"status": "paid"}, 422, "status"),
        ({"limit": 500}, 422, "limit"),
        ({"created_from": "2026-11-22T07:00:00"}, 400, "created_from"),
        ({"created_from": "9999-12-31T23:59:59-14:00"}, 422, "created_from"),
        ({"receipt_number": "SGH\x00"}, 422, "receipt_number"),
        ({"checkout_request_id": "ws_CO_" + "9" * 100}, 422, "checkout_request_id"),
        ({"cursor": _cursor("9999-12-31T23:59:59-14:00")}, 400, "cursor"),
    ]
    for params, status, field in cases:
        response = await stack.client.get("/v1/payments", params=params, headers=AUTH)
        assert response.status_code == status, (params, response.text)
        assert field in response.json()["detail"]


async def test_timeline_records_source_actor_and_reason(stack: Any) -> None:
    created = (await stack.pay(stack.phone("003"), 104)).json()
    await stack.receiver.wait_for(created["id"], "payment.failed")
    timeline = await stack.events(created["id"])
    assert [(t["from_status"], t["to_status"], t["source"]) for t in timeline] == [
        (None, "pending", "api"),
        ("pending", "sent", "api"),
        ("sent", "failed", "callback"),
    ]
    assert timeline[0]["actor"].startswith("key-")
    assert timeline[-1]["reason"] == "wrong_pin"
    assert timeline[-1]["detail"]["result_code"] == "2001"
    assert [t["at"] for t in timeline] == sorted(t["at"] for t in timeline)


async def test_refresh_is_rate_limited(stack: Any) -> None:
    created = (await stack.pay(stack.phone("010"), 105)).json()
    first = await stack.client.post(f"/v1/payments/{created['id']}/refresh", headers=AUTH)
    assert first.status_code == 200
    assert first.json()["status"] == "sent"  # still "being processed"
    second = await stack.client.post(f"/v1/payments/{created['id']}/refresh", headers=AUTH)
    assert second.status_code == 429
    assert second.json()["error"] == "RefreshTooSoon"
    assert 1 <= int(second.headers["retry-after"]) <= 10


async def test_refresh_settles_when_daraja_knows(make_stack: Any) -> None:
    # `005`: no callback will come, and the first scheduled poll is far away: only asking now
    # can settle it.
    async with make_stack(gateway={"POLL_SCHEDULE_S": [6000]}) as stack:
        created = (await stack.pay(stack.phone("005"), 106)).json()

        async def customer_paid() -> bool:
            return bool((await stack.checkout(created["checkout_request_id"]))["action"] == "pay")

        await stack.until(customer_paid, what="the simulated customer to pay")
        response = await stack.client.post(f"/v1/payments/{created['id']}/refresh", headers=AUTH)
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["result_code"]) == ("completed", "0")
        timeline = await stack.events(created["id"])
        assert (timeline[-1]["source"], timeline[-1]["actor"]) == ("query", timeline[0]["actor"])
        await stack.receiver.wait_for(created["id"], "payment.completed")


async def test_refresh_when_daraja_is_down_is_503(stack: Any) -> None:
    created = (await stack.pay(stack.phone("010"), 107)).json()
    await stack.fault(kind="outage", path="/mpesa/stkpushquery/v1/query")
    response = await stack.client.post(f"/v1/payments/{created['id']}/refresh", headers=AUTH)
    assert response.status_code == 503
    assert response.json()["error"] == "DarajaUnreachable"
    assert (await stack.payment(created["id"]))["status"] == "sent"
