"""The last word is M-Pesa's: a booking whose payment lost its callback and every poll is
confirmed once the gateway's reconciliation finds the money (STK Query proves the push, Pull
gives its receipt)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from session_api.models import UserRole
from shared.testing.system import SERVICE_KEY
from tests.session_api.flows.flow import Flow, FlowFactory, phone, until
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


PULL_AND_C2B = {
    "RECONCILIATION_PULL_NOMINATED_NUMBER": "0722000000",
    "RECONCILIATION_C2B_TOKEN": "c2b0123456789abcdef",
}


async def run_pull(flow: Flow, *, minutes: float = 1) -> str:
    """Ask the gateway for a Pull run over the last hour; its id once it completed."""
    now = datetime.now(UTC)
    window = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(minutes=minutes)).isoformat(),
        "sources": ["pull"],
    }
    requested = await flow.gateway.post(
        "/v1/reconciliation/runs", json=window, headers=GATEWAY_AUTH
    )
    assert requested.status_code == 202, requested.text
    run_id: str = requested.json()["id"]

    async def completed() -> dict[str, Any] | None:
        run = await flow.gateway.get(f"/v1/reconciliation/runs/{run_id}", headers=GATEWAY_AUTH)
        body: dict[str, Any] = run.json()
        assert body["status"] != "failed", body
        return body if body["status"] == "completed" else None

    await until(completed, within=20, what=f"run {run_id} to complete")
    return run_id


async def told_of(flow: Flow, run_id: str) -> bool:
    """session-api has answered the gateway's `reconciliation.completed` for this run."""
    return any(
        e["type"] == "reconciliation.completed" and e["data"]["id"] == run_id
        for e in flow.relay.forwarded
    )


async def test_a_run_leaving_exceptions_open_emails_staff_and_admins_the_counts_and_a_link(
    make_flow: FlowFactory,
) -> None:
    async with make_flow(gateway=PULL_AND_C2B) as flow:
        registered = await flow.gateway.post(
            "/v1/reconciliation/c2b/register", headers=GATEWAY_AUTH
        )
        assert registered.status_code == 200, registered.text
        admin = await flow.account(UserRole.admin)
        staff = await flow.account(UserRole.staff)
        client = await flow.account()
        # Money paid to the paybill by hand for an account nobody here has: unmatched.
        paid = await flow.simulator.post(
            "/simulator/c2b",
            json={
                "phone": "254" + phone()[1:],
                "amount": 2_345,
                "account_reference": "NOBODY-1",
                "shortcode": flow.settings.BUSINESS_PAYBILL,
            },
        )
        assert paid.status_code == 200, paid.text

        run_id = await run_pull(flow)

        link = f"{flow.settings.PUBLIC_URL}/staff/reconciliation/{run_id}"
        for person in (admin, staff):
            email = await flow.email(person.user.email, "Reconciliation: 1 open exception")
            for body in (email["text"], email["html"]):
                assert link in body
                assert "M-Pesa money matching no payment" in body
            assert "M-Pesa money matching no payment: 1" in email["text"]
        await until(lambda: told_of(flow, run_id), what="the event to be answered")
        assert await flow.emails(client.user.email) == []
        assert [d.kind for d in await flow.deliveries(str(admin.user.id))] == [
            "reconciliation.exceptions"
        ]


async def test_a_run_with_nothing_open_emails_nobody(make_flow: FlowFactory) -> None:
    async with make_flow(gateway={"RECONCILIATION_PULL_NOMINATED_NUMBER": "0722000000"}) as flow:
        admin = await flow.account(UserRole.admin)

        run_id = await run_pull(flow)

        # The outbox row would be written in the transaction that answered the event.
        await until(lambda: told_of(flow, run_id), what="the event to be answered")
        assert await flow.deliveries(str(admin.user.id)) == []
