"""Every simulator behaviour, end to end over loopback HTTP, ends in the
right status, reason and receipt, with the right events delivered once each, in order, signed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Expected:
    code: str
    status: str
    reason: str | None
    result_code: str | None
    receipt: bool
    events: list[str]


BEHAVIOURS = [
    Expected("100", "completed", None, "0", True, ["payment.sent", "payment.completed"]),
    Expected(
        "001",
        "cancelled",
        "customer_cancelled",
        "1032",
        False,
        ["payment.sent", "payment.cancelled"],
    ),
    Expected("002", "failed", "insufficient_funds", "1", False, ["payment.sent", "payment.failed"]),
    Expected("003", "failed", "wrong_pin", "2001", False, ["payment.sent", "payment.failed"]),
    Expected(
        "004", "timeout", "phone_unreachable", "1037", False, ["payment.sent", "payment.timeout"]
    ),
    # No callback ever: the first scheduled query learns the truth (the query has no receipt).
    Expected("005", "completed", None, "0", False, ["payment.sent", "payment.completed"]),
    Expected("006", "completed", None, "0", True, ["payment.sent", "payment.completed"]),
    Expected(
        "007", "timeout", "prompt_expired", "1019", False, ["payment.sent", "payment.timeout"]
    ),
    # The callback says paid but STK Query answers 1032 (a known sandbox bug). Without an
    # allow-list the callback is believed only if the query agrees, so Daraja's answer stands.
    Expected(
        "009",
        "cancelled",
        "customer_cancelled",
        "1032",
        False,
        ["payment.sent", "payment.cancelled"],
    ),
]


@pytest.mark.parametrize("expected", BEHAVIOURS, ids=[b.code for b in BEHAVIOURS])
async def test_behaviour_ends_right(stack: Any, expected: Expected) -> None:
    await check_behaviour(stack, expected)


async def test_never_answered_times_out_when_polling_runs_out(make_stack: Any) -> None:
    # `010`: no callback, and every query says "being processed".
    async with make_stack(gateway={"POLL_SCHEDULE_S": [5, 5, 5]}) as stack:
        await check_behaviour(
            stack,
            Expected(
                "010", "timeout", "no_response", None, False, ["payment.sent", "payment.timeout"]
            ),
        )
        payment_id = stack.receiver.events[0].event["data"]["id"]
        timeline = await stack.events(payment_id)
        assert (timeline[-1]["source"], timeline[-1]["detail"]["polls"]) == ("query", 3)


async def check_behaviour(stack: Any, expected: Expected) -> None:
    response = await stack.pay(stack.phone(expected.code), 150)
    assert response.status_code == 201, response.text
    created = response.json()
    # A fast customer's callback may beat the push's own answer; either way `sent` came first.
    assert created["status"] in ("sent", expected.status)
    assert created["checkout_request_id"].startswith("ws_CO_")

    final_type = expected.events[-1]
    await stack.receiver.wait_for(created["id"], final_type)
    payment = await stack.payment(created["id"])
    assert payment["status"] == expected.status
    assert payment["reason"] == expected.reason
    assert payment["result_code"] == expected.result_code
    assert payment["customer_message"]
    checkout = await stack.checkout(created["checkout_request_id"])
    if expected.receipt:
        assert payment["receipt_number"] == checkout["receipt"]
    else:
        assert payment["receipt_number"] is None

    events = stack.receiver.for_payment(created["id"])
    assert [e["type"] for e in events] == expected.events
    assert [e["sequence"] for e in events] == [1, 2]
    # Nothing interrupted this flow, so nothing was delivered twice.
    ids = [
        r.webhook_id for r in stack.receiver.deliveries if r.event["data"]["id"] == created["id"]
    ]
    assert len(set(ids)) == len(ids) == 2
    assert [e["id"] for e in events] == ids
    assert stack.receiver.rejected == 0
    assert events[-1]["data"] == payment

    timeline = await stack.events(created["id"])
    assert [(t["from_status"], t["to_status"]) for t in timeline][:3] == [
        (None, "pending"),
        ("pending", "sent"),
        ("sent", expected.status),
    ]


async def test_triplicate_callback_makes_one_transition(stack: Any) -> None:
    created = (await stack.pay(stack.phone("006"), 200)).json()
    await stack.receiver.wait_for(created["id"], "payment.completed")

    async def three_deliveries() -> bool:
        response = await stack.simulator.get("/simulator/callbacks")
        deliveries = [
            a
            for a in response.json()["attempts"]
            if a["reference"] == created["checkout_request_id"] and a["delivered"]
        ]
        return len(deliveries) == 3

    await stack.until(three_deliveries, what="the simulator's three callback deliveries")
    transitions = [
        t for t in await stack.events(created["id"]) if t["from_status"] != t["to_status"]
    ]
    assert [t["to_status"] for t in transitions] == ["pending", "sent", "completed"]
    assert stack.receiver.types(created["id"]) == ["payment.sent", "payment.completed"]
    stored = await stack.scalar(
        "SELECT count(*) FROM gateway.callback_inbox WHERE payment_id = :id",
        id=created["id"],
    )
    assert stored == 1  # identical resends collide on the dedupe key


async def test_lost_callback_is_settled_by_polling(stack: Any) -> None:
    created = (await stack.pay(stack.phone("005"), 300)).json()
    await stack.receiver.wait_for(created["id"], "payment.completed")
    timeline = await stack.events(created["id"])
    assert timeline[-1]["source"] == "query"
    assert (
        await stack.scalar(
            "SELECT count(*) FROM gateway.callback_inbox WHERE payment_id = :id",
            id=created["id"],
        )
        == 0
    )


async def test_late_callback_after_timeout_is_a_late_success(make_stack: Any) -> None:
    # The customer pays but Daraja reports it only after the polling schedule has run out.
    async with make_stack(
        simulator={"LONG_DELAY_S": 100}, gateway={"POLL_SCHEDULE_S": [5, 5]}
    ) as stack:
        created = (await stack.pay(stack.phone("008"), 400)).json()
        timed_out = await stack.receiver.wait_for(created["id"], "payment.timeout")
        assert timed_out[0]["data"]["reason"] == "no_response"
        completed = await stack.receiver.wait_for(created["id"], "payment.completed")
        payment = await stack.payment(created["id"])
        assert payment["status"] == "completed"
        assert payment["reason"] == "late_success"
        assert (
            payment["receipt_number"]
            == (await stack.checkout(created["checkout_request_id"]))["receipt"]
        )
        assert completed[0]["sequence"] == 3
        assert stack.receiver.types(created["id"]) == [
            "payment.sent",
            "payment.timeout",
            "payment.completed",
        ]
        timeline = await stack.events(created["id"])
        assert (timeline[-1]["from_status"], timeline[-1]["to_status"], timeline[-1]["reason"]) == (
            "timeout",
            "completed",
            "late_success",
        )
        metrics = (await stack.client.get("/metrics")).text
        assert "gateway_late_successes_total" in metrics


async def test_contradicting_query_leaves_completed(make_stack: Any) -> None:
    # `009` from the allow-list: the callback is believed without a query and completes the
    # payment (no poll comes first); the query that later answers 1032 cannot undo it.
    gateway = {"CALLBACK_ALLOWED_CIDRS": ["127.0.0.0/8"], "POLL_SCHEDULE_S": [3000]}
    async with make_stack(gateway=gateway) as stack:
        created = (await stack.pay(stack.phone("009"), 500)).json()
        await stack.receiver.wait_for(created["id"], "payment.completed")
        assert [c["verdict"] for c in await stack.callbacks(created["id"])] == ["allow_listed"]
        response = await stack.client.post(
            f"/v1/payments/{created['id']}/refresh",
            headers={"Authorization": f"Bearer {stack.settings.API_KEYS[0].get_secret_value()}"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "completed"
        queries = [
            q
            for q in await stack.sim_requests("stk_query")
            if q["body"]["CheckoutRequestID"] == created["checkout_request_id"]
        ]
        assert len(queries) == 1, "only the refresh asked Daraja"
        timeline = await stack.events(created["id"])
        assert timeline[-1]["reason"] == "contradiction_ignored"
        assert timeline[-1]["detail"]["says"] == "1032"
        assert stack.receiver.types(created["id"]) == ["payment.sent", "payment.completed"]
