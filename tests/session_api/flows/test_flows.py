"""Bookings, orders and deposits paid through the real gateway and the Daraja simulator: paid,
cancelled and retried, refused, credited once however often the event arrives, and confirmed
even when the proof comes after the timeout."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from session_api.config import Settings
from session_api.main import create_app as create_session_api
from session_api.models import UserRole
from session_api.product import service as product_service
from session_api.wallet import service as wallet_service
from shared.testing import serve_app
from tests.session_api.fixtures import Account, future
from tests.session_api.flows.flow import Flow, FlowFactory, phone, until


async def approved_booking(flow: Flow, client: Account, therapist: Account) -> dict[str, Any]:
    created = await flow.api.post(
        "/v1/bookings",
        json={"therapist_id": therapist.id, "scheduled_at": future(), "session_type": "individual"},
        headers=client.headers,
    )
    assert created.status_code == 201, created.text
    approved = await flow.api.post(
        f"/v1/bookings/{created.json()['id']}/approve", headers=therapist.headers
    )
    assert approved.status_code == 200, approved.text
    body: dict[str, Any] = approved.json()
    return body


async def pay(flow: Flow, path: str, payer: Account, number: str) -> dict[str, Any]:
    response = await flow.api.post(path, json={"phone": number}, headers=payer.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def stream_statuses(
    flow: Flow, attempt_id: str, viewer: Account, on_first: Callable[[], Awaitable[None]]
) -> list[str]:
    """The statuses the SSE stream delivers until it closes; `on_first` runs once the first
    (current) state has arrived, which is after the stream subscribed."""
    seen: list[str] = []
    async with flow.api.stream(
        "GET", f"/v1/payments/{attempt_id}/stream", headers=viewer.headers
    ) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line.removeprefix("data: "))["status"])
                if len(seen) == 1:
                    await on_first()
    return seen


class TestBooking:
    async def test_approve_pay_confirm_with_the_receipt_for_both_and_a_live_stream(
        self, flow: Flow
    ) -> None:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist, rate=2_500)
        booking = await approved_booking(flow, client, therapist)
        number = phone()
        # This customer waits for us: the PIN is entered once the stream is open.
        await flow.simulator.put(
            f"/simulator/behaviours/254{number[1:]}", json={"behaviour": "manual"}
        )
        attempt = await pay(flow, f"/v1/bookings/{booking['id']}/pay", client, number)

        async def enter_pin() -> None:
            prompts = (await flow.simulator.get("/simulator/prompts")).json()
            (prompt,) = [p for p in prompts if p["phone"].endswith(number[1:])]
            approved = await flow.simulator.post(
                f"/simulator/prompts/{prompt['checkout_request_id']}/approve"
            )
            assert approved.status_code == 200, approved.text

        statuses = await asyncio.wait_for(
            stream_statuses(flow, attempt["id"], client, enter_pin), timeout=20
        )

        assert attempt["status"] == "processing"
        # The gateway's own words, shown as they come.
        assert attempt["customer_message"] == (
            "Check your phone and enter your M-Pesa PIN to pay KES 2,500."
        )
        assert statuses == ["processing", "paid"]
        # The gateway may settle on its status query, which has no receipt, and record the
        # receipt from the callback without an event: the worker job reads it back.
        await flow.refresh()
        receipt = (await flow.attempt(attempt["id"], therapist))["receipt_number"]
        assert receipt in {entry["receipt"] for entry in await flow.ledger()}
        for viewer in (client, therapist):
            seen = (
                await flow.api.get(f"/v1/bookings/{booking['id']}", headers=viewer.headers)
            ).json()
            assert seen["status"] == "confirmed"
            assert seen["payment"]["status"] == "paid"
            assert seen["payment"]["receipt_number"] == receipt
        ledger_amounts = {e["receipt"]: e["amount"] for e in await flow.ledger()}
        assert ledger_amounts[receipt] == 2_500

    async def test_a_cancelled_prompt_keeps_the_booking_approved_and_a_retry_pays(
        self, flow: Flow
    ) -> None:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist, rate=1_800)
        booking = await approved_booking(flow, client, therapist)

        first = await pay(flow, f"/v1/bookings/{booking['id']}/pay", client, phone("001"))
        cancelled = await flow.settled(first["id"], client)

        assert cancelled["status"] == "cancelled"
        assert cancelled["reason"] == "customer_cancelled"
        assert cancelled["can_retry"] is True
        assert cancelled["retry_hint"]
        seen = (await flow.api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)).json()
        assert (seen["status"], seen["payment"]["status"], seen["payment"]["reason"]) == (
            "approved",
            "cancelled",
            "customer_cancelled",
        )

        second = await pay(flow, f"/v1/bookings/{booking['id']}/pay", client, phone())
        await flow.settled(second["id"], client)
        await flow.refresh()
        paid = await flow.attempt(second["id"], client)

        assert (second["attempt_number"], paid["status"]) == (2, "paid")
        assert paid["receipt_number"] in {e["receipt"] for e in await flow.ledger()}
        seen = (
            await flow.api.get(f"/v1/bookings/{booking['id']}", headers=therapist.headers)
        ).json()
        assert seen["status"] == "confirmed"
        assert seen["payment"]["receipt_number"] == paid["receipt_number"]

    async def test_paying_again_at_once_with_the_same_phone_is_refused_until_the_window_ends(
        self, flow: Flow
    ) -> None:
        # Daraja refuses the same phone and amount within 2 minutes (result 17); the gateway
        # says so before asking, and session-api passes on when to try again.
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist, rate=1_200)
        booking = await approved_booking(flow, client, therapist)
        number = phone("001")
        first = await pay(flow, f"/v1/bookings/{booking['id']}/pay", client, number)
        await flow.settled(first["id"], client)

        again = await flow.api.post(
            f"/v1/bookings/{booking['id']}/pay", json={"phone": number}, headers=client.headers
        )

        assert again.status_code == 409, again.text
        assert again.json()["error"] == "PaymentBlocked"
        assert int(again.headers["Retry-After"]) > 0


class TestOrder:
    async def test_an_order_is_paid(self, flow: Flow) -> None:
        client = await flow.account()
        async with flow.session_api.state.sessionmaker() as session, session.begin():
            await product_service.ensure_product(
                session, sku="JOURNAL", name="Journal", description="", price=1_200
            )
        products = (await flow.api.get("/v1/products")).json()["items"]
        order = await flow.api.post(
            "/v1/orders",
            json={
                "items": [{"product_id": products[0]["id"], "quantity": 2}],
                "delivery": {"method": "delivery", "address": "12 Moi Avenue", "city": "Nairobi"},
                "customer": {"name": "Amina", "phone": "0712345678"},
            },
            headers=client.headers,
        )
        assert order.status_code == 201, order.text

        attempt = await pay(flow, f"/v1/orders/{order.json()['id']}/pay", client, phone())
        await flow.settled(attempt["id"], client)
        await flow.refresh()
        paid = await flow.attempt(attempt["id"], client)

        seen = (
            await flow.api.get(f"/v1/orders/{order.json()['id']}", headers=client.headers)
        ).json()
        assert (paid["status"], paid["amount"]) == ("paid", 2 * 1_200 + 300)
        assert seen["status"] == "paid"
        assert seen["payment"]["receipt_number"] == paid["receipt_number"]
        assert paid["receipt_number"] in {e["receipt"] for e in await flow.ledger()}


class TestDeposit:
    async def test_credited_exactly_once_when_its_event_arrives_three_times_at_once(
        self, flow: Flow
    ) -> None:
        # Every event the gateway sends reaches session-api three times, concurrently; and the
        # simulated customer's callback is itself sent three times (`006`).
        flow.relay.copies = 3
        client = await flow.account()

        created = await flow.api.post(
            "/v1/wallet/deposits",
            json={"amount": 1_000, "phone": phone("006")},
            headers=client.headers,
        )
        assert created.status_code == 201, created.text
        await flow.settled(created.json()["attempt"]["id"], client)
        await flow.refresh()
        paid = await flow.attempt(created.json()["attempt"]["id"], client)

        assert paid["status"] == "paid"
        assert paid["receipt_number"] in {e["receipt"] for e in await flow.ledger()}
        # One completion, or two when a poll proved the payment before its callback was
        # verified: the first without the receipt, the second with it. Credited once either way.
        completed = [e for e in flow.relay.forwarded if e["type"] == "payment.completed"]
        receipts = [e["data"]["receipt_number"] for e in completed]
        assert receipts in ([paid["receipt_number"]], [None, paid["receipt_number"]])
        assert flow.relay.answers.count(200) == len(flow.relay.answers)
        wallet = (await flow.api.get("/v1/wallet", headers=client.headers)).json()
        ledger = (await flow.api.get("/v1/wallet/ledger", headers=client.headers)).json()
        assert wallet["balance"] == 1_000
        assert ledger["total"] == 1
        assert sum(e["amount"] for e in ledger["items"]) == wallet["balance"]
        deposit = (
            await flow.api.get(
                f"/v1/wallet/deposits/{created.json()['id']}", headers=client.headers
            )
        ).json()
        assert (deposit["status"], deposit["receipt_number"]) == ("paid", paid["receipt_number"])
        async with flow.session_api.state.sessionmaker() as session:
            assert await wallet_service.find_inconsistencies(session) == []


async def test_a_wrong_service_key_is_a_503_for_the_payer_and_records_nothing(
    flow: Flow,
) -> None:
    # A deployment mistake: the gateway refuses our key; the payer is told to retry later.
    client = await flow.account()
    misconfigured = Settings(**{**flow.settings.model_dump(), "GATEWAY_API_KEY": "wrong-key"})

    async with (
        serve_app(create_session_api(misconfigured)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as api,
    ):
        response = await api.post(
            "/v1/wallet/deposits", json={"amount": 100, "phone": phone()}, headers=client.headers
        )
        deposits = (await api.get("/v1/wallet/transactions", headers=client.headers)).json()

    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert deposits["total"] == 0


async def test_a_payment_proven_after_its_timeout_still_confirms_the_booking(
    make_flow: FlowFactory,
) -> None:
    # `008`: M-Pesa reports the payment late. The gateway's polls run out first (timeout), then
    # the late callback proves the payment: the customer's money is never lost. The late report
    # waits until the test advances the simulator's clock past it, whatever the machine's load.
    late_report_s = 100_000
    async with make_flow(
        simulator={"LONG_DELAY_S": late_report_s},
        gateway={"POLL_SCHEDULE_S": [10, 10]},
    ) as flow:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist, rate=2_000)
        booking = await approved_booking(flow, client, therapist)
        attempt = await pay(flow, f"/v1/bookings/{booking['id']}/pay", client, phone("008"))

        timed_out = await flow.settled(attempt["id"], client)
        seen = (await flow.api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)).json()
        assert timed_out["status"] == "timeout"
        assert timed_out["can_retry"] is True
        assert "will still be recorded" in timed_out["retry_hint"]
        assert seen["status"] == "approved"

        await flow.simulator.post("/simulator/clock/advance", json={"seconds": late_report_s})

        async def paid() -> dict[str, Any] | None:
            current = await flow.attempt(attempt["id"], client)
            return current if current["status"] == "paid" else None

        late = await until(paid, what="the late success")
        seen = (
            await flow.api.get(f"/v1/bookings/{booking['id']}", headers=therapist.headers)
        ).json()
        assert seen["status"] == "confirmed"
        assert seen["payment"]["receipt_number"] == late["receipt_number"]
        assert late["receipt_number"] in {e["receipt"] for e in await flow.ledger()}
