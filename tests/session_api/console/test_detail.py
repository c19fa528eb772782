"""`GET /v1/admin/payments/{attempt_id}` and `GET /v1/admin/stats`: one payment with its payable,
client, every attempt and the gateway's timeline merged with ours; the stats as the gateway
computes them; and what staff see when the gateway cannot be asked."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from session_api.models import AttemptStatus, UserRole
from tests.session_api.console.data import BASE, GatewayFacts, Rows
from tests.session_api.fixtures import Account, MakeAccount


def entry(at: str, kind: str, summary: str, **extra: Any) -> dict[str, Any]:
    return {
        "at": at,
        "kind": kind,
        "summary": summary,
        "actor": "daraja",
        "status": None,
        "reason": None,
        "result_code": None,
        "failure": False,
        "guidance": None,
        "detail": {},
        **extra,
    }


async def test_one_payment_with_every_attempt_and_a_merged_timeline(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    client = await account(name="Alice Wanjiru")
    therapist = await account(role=UserRole.therapist, name="Dr Grace Mwangi")
    booking = await rows.booking(client.user, therapist.user)
    first = await rows.attempt(
        booking,
        user=client.user,
        created_at=BASE,
        status=AttemptStatus.cancelled,
        reason="customer_cancelled",
    )
    second = await rows.attempt(
        booking, user=client.user, created_at=BASE + timedelta(minutes=5), number=2
    )
    facts.fact(second, verdict="matched")
    cancelled = entry(
        "2026-11-20T09:00:30Z",
        "event",
        "sent → cancelled",
        failure=True,
        reason="customer_cancelled",
        guidance={"tell_customer": "You cancelled the M-Pesa prompt.", "staff_can": "Confirm."},
    )
    facts.timelines[second.gateway_payment_id] = {
        "payment": {},
        "verdict": "matched",
        "open_exception": False,
        "entries": [
            entry("2026-11-20T09:05:01Z", "event", "new → pending"),
            entry("2026-11-20T09:05:40Z", "callback", "Daraja callback", result_code="0"),
            entry("2026-11-20T09:06:00Z", "reconciliation", "verdict matched"),
        ],
    }
    # Another attempt's gateway story stays on that attempt's page.
    facts.timelines[first.gateway_payment_id] = {"entries": [cancelled]}

    response = await api.get(f"/v1/admin/payments/{second.id}", headers=staff.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["payment"]["id"] == str(second.id)
    assert body["payment"]["reconciliation_verdict"] == "matched"
    assert body["client"]["name"] == "Alice Wanjiru"
    assert body["paid_for"]["therapist_name"] == "Dr Grace Mwangi"
    assert [a["id"] for a in body["attempts"]] == [str(first.id), str(second.id)]
    assert body["attempts"][0]["reason"] == "customer_cancelled"
    kinds = [(e["kind"], e["summary"].split(":")[0]) for e in body["timeline"]]
    assert kinds == [
        ("attempt", "Attempt 1 started"),
        ("attempt", "Attempt 2 started"),
        ("event", "new → pending"),
        ("callback", "Daraja callback"),
        ("reconciliation", "verdict matched"),
    ]
    assert body["timeline_complete"] is True
    timeline_call = next(r for r in facts.requests if r.url.path.endswith("/timeline"))
    assert timeline_call.headers["X-Acting-User"] == f"user:{staff.id}"


async def test_the_detail_still_answers_when_the_gateway_does_not(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    client = await account()
    order = await rows.order(client.user)
    attempt = await rows.attempt(order, user=client.user, created_at=BASE)
    facts.gateway.router.get(path__regex=r"^/v1/console/payments/.+/timeline$").mock(
        side_effect=httpx.ConnectError("refused")
    )

    response = await api.get(f"/v1/admin/payments/{attempt.id}", headers=staff.headers)

    assert response.status_code == 200, response.text
    assert response.json()["timeline_complete"] is False
    assert [e["kind"] for e in response.json()["timeline"]] == ["attempt"]


async def test_an_unknown_attempt_is_404(api: httpx.AsyncClient, staff: Account) -> None:
    response = await api.get(f"/v1/admin/payments/{uuid.uuid4()}", headers=staff.headers)

    assert response.status_code == 404
    assert response.json()["error"] == "PaymentAttemptNotFound"


STATS = {
    "window_from": "2026-11-01T00:00:00+03:00",
    "window_to": "2026-11-02T00:00:00+03:00",
    "granularity": "day",
    "total_count": 3,
    "total_amount": 600,
    "by_status": [{"status": "completed", "count": 3, "amount": 600}],
    "success_rate": 1.0,
    "failure_reasons": [],
    "median_seconds_to_pay": 20.0,
    "p95_seconds_to_pay": 29.0,
    "late_successes": 0,
    "held": 0,
    "open_exceptions": 1,
    "buckets": [
        {
            "start": "2026-11-01T00:00:00+03:00",
            "by_status": [{"status": "completed", "count": 3, "amount": 600}],
        }
    ],
}
WINDOW = {"from": "2026-11-01T00:00:00+03:00", "to": "2026-11-02T00:00:00+03:00"}


async def test_stats_come_from_the_gateway_for_the_acting_staff(
    api: httpx.AsyncClient, staff: Account, facts: GatewayFacts
) -> None:
    facts.stats = STATS

    response = await api.get(
        "/v1/admin/stats", params={**WINDOW, "granularity": "hour"}, headers=staff.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["median_seconds_to_pay"] == 20.0
    assert response.json()["open_exceptions"] == 1
    sent = facts.requests[-1]
    assert sent.url.params["granularity"] == "hour"
    assert sent.url.params["from"] == "2026-11-01T00:00:00+03:00"
    assert sent.headers["X-Acting-User"] == f"user:{staff.id}"


async def test_stats_errors_are_named(
    api: httpx.AsyncClient, staff: Account, facts: GatewayFacts
) -> None:
    facts.stats = httpx.Response(
        400, json={"error": "InvalidWindow", "detail": "the window may span at most 366 days"}
    )
    refused = await api.get("/v1/admin/stats", params=WINDOW, headers=staff.headers)
    facts.stats = httpx.Response(503, json={"error": "Down", "detail": "maintenance"})
    down = await api.get("/v1/admin/stats", params=WINDOW, headers=staff.headers)

    assert refused.status_code == 400
    assert refused.json() == {
        "error": "InvalidFilter",
        "detail": "the window may span at most 366 days",
    }
    assert down.status_code == 503
    assert down.json()["error"] == "GatewayStatsUnavailable"
