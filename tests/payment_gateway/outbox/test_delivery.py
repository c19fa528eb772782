"""Event delivery gives up only when an event is older than GATEWAY_WEBHOOK_MAX_AGE_H."""

from __future__ import annotations

from typing import Any


async def test_events_past_their_age_are_abandoned_in_order(make_stack: Any) -> None:
    # 0.001 h x TIME_SCALE 0.01 = 36 ms: the events age out after a retry or two.
    async with make_stack(gateway={"WEBHOOK_MAX_AGE_H": 0.001}) as stack:
        stack.receiver.down = True
        created = (await stack.pay(stack.phone("001"), 190)).json()

        async def settled() -> list[str] | None:
            rows = await stack.scalar(
                "SELECT json_agg(d.status ORDER BY d.sequence) FROM gateway.event_delivery d "
                "WHERE d.payment_id = :id",
                id=created["id"],
            )
            return rows if rows and len(rows) == 2 and "pending" not in rows else None

        assert await stack.until(settled, what="both deliveries to be given up") == [
            "abandoned",
            "abandoned",
        ]
        # Each was tried (and recorded) before it was given up, every attempt of the later one
        # after every attempt of the earlier. How many attempts fit before the age ran out
        # depends on the jittered backoff, so it is not asserted.
        attempts = await stack.scalar(
            "SELECT json_agg(json_build_object('seq', d.sequence, 'code', a.status_code) "
            "ORDER BY a.id) FROM gateway.delivery_attempt a "
            "JOIN gateway.event_delivery d ON d.id = a.delivery_id WHERE d.payment_id = :id",
            id=created["id"],
        )
        sequences = [a["seq"] for a in attempts]
        assert sequences == sorted(sequences)
        assert set(sequences) == {1, 2}
        assert {a["code"] for a in attempts} == {503}
        assert stack.receiver.events == []
