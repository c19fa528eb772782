"""`GET /v1/console/stats`: counts and values by status, success rate, failure reasons, time to
pay, late successes and holds, bucketed by Africa/Nairobi day or hour over a half-open window."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.payment_gateway.stack import AUTH, GatewayStack, StackFactory

STAFF = {**AUTH, "X-Acting-User": "staff:stats"}
WINDOW = {"from": "2001-03-01T00:00:00+03:00", "to": "2001-03-03T00:00:00+03:00"}

# (created_at UTC, status, amount, reason, seconds from prompt to settling, review_reason)
PAYMENTS: list[tuple[str, str, int, str | None, int | None, str | None]] = [
    ("2001-02-28T21:00:00Z", "completed", 100, None, 10, None),  # 00:00 in Nairobi: day 1
    ("2001-03-01T08:00:00Z", "completed", 200, None, 20, None),
    ("2001-03-01T08:30:00Z", "completed", 300, None, 30, None),
    ("2001-03-01T09:00:00Z", "completed", 50, "late_success", 100, None),
    ("2001-03-01T10:00:00Z", "failed", 70, "insufficient_funds", None, None),
    ("2001-03-01T11:00:00Z", "cancelled", 80, "customer_cancelled", None, None),
    ("2001-03-02T06:00:00Z", "timeout", 90, "prompt_expired", None, None),
    ("2001-03-02T07:00:00Z", "failed", 60, "insufficient_funds", None, None),
    ("2001-03-02T08:00:00Z", "sent", 40, None, None, "amount_mismatch"),
    # Outside [from, to): 23:59:59 on 28 February and midnight of 3 March, Nairobi time.
    ("2001-02-28T20:59:59Z", "completed", 999, None, 5, None),
    ("2001-03-02T21:00:00Z", "completed", 999, None, 5, None),
]


_INSERT = text(
    """
    INSERT INTO gateway.payment (id, status, amount, phone, account_reference, description,
        environment, customer_message, created_by, reason, review_reason, result_code,
        created_at, updated_at, pushed_at, settled_at)
    VALUES (gen_random_uuid(), :status, :amount, :phone, 'ACC', 'stats', 'sandbox', '', 'test',
        :reason, :review, :result_code, :created, :created, :created, :settled)
    """
)


async def insert_payments(stack: GatewayStack) -> None:
    async with stack.engine.begin() as connection:
        for n, (created, status, amount, reason, seconds, review) in enumerate(PAYMENTS):
            at = datetime.fromisoformat(created)
            await connection.execute(
                _INSERT,
                {
                    "status": status,
                    "amount": amount,
                    "phone": f"2547{n:08d}",
                    "reason": reason,
                    "review": review,
                    "result_code": "0" if status == "completed" else None,
                    "created": at,
                    "settled": at + timedelta(seconds=seconds) if seconds else None,
                },
            )


async def stats(stack: GatewayStack, **params: str) -> dict[str, Any]:
    response = await stack.client.get("/v1/console/stats", params=params, headers=STAFF)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_stats_by_nairobi_day(make_stack: StackFactory) -> None:
    async with make_stack(worker=False) as stack:
        await insert_payments(stack)

        body = await stats(stack, **WINDOW, granularity="day")
        hourly = await stats(stack, **WINDOW, granularity="hour")

    assert body["total_count"] == 9
    assert body["total_amount"] == 990
    by_status = {s["status"]: (s["count"], s["amount"]) for s in body["by_status"]}
    assert by_status == {
        "completed": (4, 650),
        "failed": (2, 130),
        "cancelled": (1, 80),
        "timeout": (1, 90),
        "sent": (1, 40),
        "pending": (0, 0),
        "refund_pending": (0, 0),
        "refunded": (0, 0),
        "refund_failed": (0, 0),
    }
    assert body["success_rate"] == 0.5  # 4 of the 8 that ended
    assert body["failure_reasons"] == [
        {"reason": "insufficient_funds", "count": 2},
        {"reason": "customer_cancelled", "count": 1},
        {"reason": "prompt_expired", "count": 1},
    ]
    assert body["median_seconds_to_pay"] == 25.0
    assert body["p95_seconds_to_pay"] == pytest.approx(89.5)
    assert body["late_successes"] == 1
    assert body["held"] == 1
    assert body["open_exceptions"] == 0
    assert [b["start"] for b in body["buckets"]] == [
        "2001-03-01T00:00:00+03:00",
        "2001-03-02T00:00:00+03:00",
    ]
    first_day = {s["status"]: s["count"] for s in body["buckets"][0]["by_status"]}
    assert first_day == {"completed": 4, "failed": 1, "cancelled": 1}
    assert hourly["buckets"][0]["start"] == "2001-03-01T00:00:00+03:00"
    assert len(hourly["buckets"]) == 8  # one per hour with payments (08:00 and 08:30 share)
    assert sum(s["count"] for b in hourly["buckets"] for s in b["by_status"]) == body["total_count"]


async def test_an_empty_window_has_no_rate_and_no_times(stack: GatewayStack) -> None:
    body = await stats(stack, **{"from": "1999-01-01T00:00:00Z", "to": "1999-01-02T00:00:00Z"})

    assert body["total_count"] == 0
    assert body["success_rate"] is None
    assert body["median_seconds_to_pay"] is None
    assert body["buckets"] == []


async def test_bad_windows_are_refused(stack: GatewayStack) -> None:
    cases = [
        {"from": "2001-03-02T00:00:00Z", "to": "2001-03-01T00:00:00Z"},
        {"from": "2001-01-01T00:00:00Z", "to": "2003-01-01T00:00:00Z"},
    ]
    for params in cases:
        response = await stack.client.get("/v1/console/stats", params=params, headers=STAFF)
        assert response.status_code == 400, params
        assert response.json()["error"] == "InvalidWindow"
    naive = await stack.client.get(
        "/v1/console/stats",
        params={"from": "2001-03-01T00:00:00", "to": "2001-03-02T00:00:00"},
        headers=STAFF,
    )
    assert naive.status_code == 422


async def test_windows_off_the_hour_and_later_changes_are_counted(
    make_stack: StackFactory,
) -> None:
    async with make_stack(worker=False) as stack:
        await insert_payments(stack)
        odd = {"from": "2001-03-01T08:15:00Z", "to": "2001-03-02T06:30:00Z"}
        before = await stats(stack, **odd)
        # A late success found by reconciliation, long after the hour was rolled up.
        await stack.execute(
            "UPDATE gateway.payment SET status = 'completed', reason = 'late_success', "
            "result_code = '0', updated_at = now() WHERE amount = 90"
        )
        after = await stats(stack, **odd)

    assert before["total_count"] == 5  # 08:30, 09:00, 10:00, 11:00 and 06:00 (UTC)
    assert before["total_amount"] == 300 + 50 + 70 + 80 + 90
    assert before["late_successes"] == 1
    assert after["total_count"] == 5
    assert after["late_successes"] == 2
    completed = {s["status"]: s["count"] for s in after["by_status"]}["completed"]
    assert completed == 3
    assert {r["reason"] for r in after["failure_reasons"]} == {
        "insufficient_funds",
        "customer_cancelled",
    }


async def test_a_refunded_payment_still_counts_as_a_success(make_stack: StackFactory) -> None:
    async with make_stack(worker=False) as stack:
        async with stack.engine.begin() as connection:
            for n, status in enumerate(("refunded", "failed", "refund_pending")):
                at = datetime.fromisoformat("2002-05-01T08:00:00Z") + timedelta(minutes=n)
                await connection.execute(
                    _INSERT,
                    {
                        "status": status,
                        "amount": 100,
                        "phone": f"2547{n:08d}",
                        "reason": None,
                        "review": None,
                        "result_code": None if status == "failed" else "0",
                        "created": at,
                        "settled": at + timedelta(seconds=5),
                    },
                )
        body = await stats(stack, **{"from": "2002-05-01T00:00:00Z", "to": "2002-05-02T00:00:00Z"})

    by_status = {s["status"]: s["count"] for s in body["by_status"] if s["count"]}
    assert by_status == {"refunded": 1, "refund_pending": 1, "failed": 1}
    assert body["success_rate"] == round(2 / 3, 4)
