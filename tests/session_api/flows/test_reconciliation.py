"""The last word is M-Pesa's: a booking whose payment lost its callback and every poll is
confirmed once the gateway's reconciliation finds the money (STK Query proves the push, Pull
gives its receipt)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from session_api.models import UserRole
from shared.testing.system import SERVICE_KEY
from tests.session_api.flows.flow import FlowFactory, phone, until
from tests.session_api.flows.test_flows import approved_booking, pay

GATEWAY_AUTH = {"Authorization": f"Bearer {SERVICE_KEY}"}
QUERY_PATH = "/mpesa/stkpushquery/v1/query"


async def test_a_booking_every_callback_and_poll_missed_is_confirmed_by_reconciliation(
    make_flow: FlowFactory,
) -> None:
    async with make_flow(
        gateway={"POLL_SCHEDULE_S": [10, 10], "RECONCILIATION_PULL_NOMINATED_NUMBER": "0722000000"}
    ) as flow:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist, rate=1_500)
        booking = await approved_booking(flow, client, therapist)
        down = await flow.simulator.post(
            "/simulator/faults", json={"kind": "outage", "path": QUERY_PATH}
        )
        assert down.status_code == 201
        # `005`: the customer pays, the callback never comes; every poll meets the outage.
        attempt = await pay(flow, f"/v1/bookings/{booking['id']}/pay", client, phone("005"))
        timed_out = await flow.settled(attempt["id"], client)
        assert timed_out["status"] == "timeout"
        await flow.simulator.delete("/simulator/faults")

        now = datetime.now(UTC)
        window = {
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (now + timedelta(minutes=1)).isoformat(),
            "sources": ["stk_query", "pull"],
        }
        requested = await flow.gateway.post(
            "/v1/reconciliation/runs", json=window, headers=GATEWAY_AUTH
        )
        assert requested.status_code == 202, requested.text

        async def confirmed() -> dict[str, Any] | None:
            seen = await flow.api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)
            body: dict[str, Any] = seen.json()
            return (
                body
                if body["status"] == "confirmed" and body["payment"]["receipt_number"]
                else None
            )

        seen = await until(confirmed, within=20, what="the booking to be confirmed")
        [entry] = [
            e for e in await flow.ledger() if e["receipt"] == seen["payment"]["receipt_number"]
        ]
        assert entry["amount"] == 1_500
        run = (
            await flow.gateway.get(
                f"/v1/reconciliation/runs/{requested.json()['id']}", headers=GATEWAY_AUTH
            )
        ).json()
        assert run["status"] == "completed"
        assert (run["summary"]["settled_late"], run["summary"]["unmatched_mpesa"]) == (1, 0)
