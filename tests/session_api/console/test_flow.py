"""The console against the real gateway and the Daraja simulator: a booking whose first prompt
the client cancels and whose second is paid is found by its therapist's name, explained step by
step with guidance on the cancellation, and counted in the stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from session_api.models import UserRole
from tests.session_api.fixtures import Account, future
from tests.session_api.flows.flow import Flow, FlowFactory, phone


async def pay_booking(flow: Flow, client: Account, booking_id: str, number: str) -> str:
    response = await flow.api.post(
        f"/v1/bookings/{booking_id}/pay", json={"phone": number}, headers=client.headers
    )
    assert response.status_code == 201, response.text
    attempt_id: str = response.json()["id"]
    return attempt_id


async def admin_get(flow: Flow, staff: Account, path: str, **params: Any) -> Any:
    response = await flow.api.get(path, params=params, headers=staff.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_retried_booking_through_the_console(make_flow: FlowFactory) -> None:
    async with make_flow() as flow:
        client = await flow.account(name="Console Client")
        therapist = await flow.account(UserRole.therapist, name="Dr Console Therapist")
        staff = await flow.account(UserRole.staff)
        created = await flow.api.post(
            "/v1/bookings",
            json={"therapist_id": therapist.id, "scheduled_at": future()},
            headers=client.headers,
        )
        booking_id = created.json()["id"]
        approved = await flow.api.post(
            f"/v1/bookings/{booking_id}/approve", headers=therapist.headers
        )
        assert approved.status_code == 200, approved.text
        first = await pay_booking(flow, client, booking_id, phone("001"))  # cancelled
        assert (await flow.settled(first, client))["status"] == "cancelled"
        paying_phone = phone()
        second = await pay_booking(flow, client, booking_id, paying_phone)
        assert (await flow.settled(second, client))["status"] == "paid"

        page = await admin_get(flow, staff, "/v1/admin/payments", q="console therapist")
        by_phone = await admin_get(flow, staff, "/v1/admin/payments", q=paying_phone)
        cancelled = await admin_get(flow, staff, f"/v1/admin/payments/{first}")
        paid = await admin_get(flow, staff, f"/v1/admin/payments/{second}")
        now = datetime.now(UTC)
        stats = await admin_get(
            flow,
            staff,
            "/v1/admin/stats",
            **{"from": (now - timedelta(hours=1)).isoformat(), "to": now.isoformat()},
        )

    assert [row["id"] for row in page["items"]] == [second, first]
    assert page["gateway_facts"] is True
    assert [row["id"] for row in by_phone["items"]] == [second]  # the whole number, exactly
    assert {row["environment"] for row in page["items"]} == {"sandbox"}
    assert page["items"][0]["paid_for"]["therapist_name"] == "Dr Console Therapist"
    assert page["items"][0]["receipt_number"]
    assert [a["id"] for a in paid["attempts"]] == [first, second]
    assert paid["timeline_complete"] is True
    kinds = [entry["kind"] for entry in paid["timeline"]]
    assert kinds[0] == "attempt"  # the first attempt, long before this payment
    assert kinds.count("attempt") == 2
    assert {"event", "callback", "delivery"} <= set(kinds)
    statuses = [e["status"] for e in paid["timeline"] if e["kind"] == "event"]
    assert statuses == ["pending", "sent", "completed"]
    failures = [e for e in cancelled["timeline"] if e["failure"]]
    assert {e["kind"] for e in failures} >= {"event", "callback"}
    assert {e["reason"] for e in failures} == {"customer_cancelled"}
    failure = next(e for e in failures if e["kind"] == "event")
    assert failure["guidance"]["tell_customer"] == "You cancelled the M-Pesa prompt."
    assert stats["total_count"] == 2
    assert {s["status"]: s["count"] for s in stats["by_status"]}["cancelled"] == 1
    assert stats["success_rate"] == 0.5
