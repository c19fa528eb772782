"""Refunds through the real gateway and the Daraja simulator's Reversal: a paid order ends
refunded, a second request does nothing twice, a refunded deposit is debited by a new ledger
entry (the balance stays the sum of the entries), a confirmed booking is cancelled."""

from __future__ import annotations

from typing import Any

from session_api.models import UserRole
from session_api.product import service as product_service
from session_api.wallet import service as wallet_service
from tests.session_api.fixtures import Account, future
from tests.session_api.flows.flow import Flow, phone, until


async def paid(flow: Flow, path: str, payer: Account, body: dict[str, Any]) -> dict[str, Any]:
    response = await flow.api.post(path, json=body, headers=payer.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    attempt_id = created["attempt"]["id"] if "attempt" in created else created["id"]
    await flow.settled(attempt_id, payer)
    await flow.refresh()
    attempt = await flow.attempt(attempt_id, payer)
    assert attempt["status"] == "paid", attempt
    return attempt


async def refund(flow: Flow, attempt_id: str, staff: Account, reason: str = "paid twice") -> Any:
    return await flow.api.post(
        f"/v1/admin/payments/{attempt_id}/refund", json={"reason": reason}, headers=staff.headers
    )


async def refunded(flow: Flow, attempt_id: str, viewer: Account) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        attempt = await flow.attempt(attempt_id, viewer)
        return attempt if attempt["status"] == "refunded" else None

    result: dict[str, Any] = await until(done, within=15, what=f"{attempt_id} refunded")
    return result


async def reversals(flow: Flow, receipt: str) -> list[dict[str, Any]]:
    response = await flow.simulator.get("/simulator/requests", params={"api": "reversal"})
    assert response.status_code == 200, response.text
    return [r for r in response.json()["requests"] if r["body"].get("TransactionID") == receipt]


async def test_a_paid_order_ends_refunded_and_a_second_request_does_nothing_twice(
    flow: Flow,
) -> None:
    client = await flow.account()
    staff = await flow.account(UserRole.staff)
    async with flow.session_api.state.sessionmaker() as session, session.begin():
        await product_service.ensure_product(
            session, sku="CANDLE", name="Candle", description="", price=900
        )
    product = next(
        p for p in (await flow.api.get("/v1/products")).json()["items"] if p["sku"] == "CANDLE"
    )
    order = await flow.api.post(
        "/v1/orders",
        json={
            "items": [{"product_id": product["id"], "quantity": 1}],
            "delivery": {"method": "pickup"},
            "customer": {"name": "Amina", "phone": "0712345678"},
        },
        headers=client.headers,
    )
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]
    attempt = await paid(flow, f"/v1/orders/{order_id}/pay", client, {"phone": phone()})

    first = await refund(flow, attempt["id"], staff)
    assert first.status_code == 202, first.text
    body = first.json()
    assert (body["state"], body["amount"]) == ("requested", attempt["amount"])
    assert body["receipt_number"] == attempt["receipt_number"]
    # The gateway's records name staff by id only: they outlive an erasure.
    assert body["requested_by"] == f"user:{staff.id}"
    assert body["attempt"]["status"] == "paid"

    done = await refunded(flow, attempt["id"], client)
    assert (done["reason"], done["can_retry"]) == ("refunded", False)
    seen = (await flow.api.get(f"/v1/orders/{order_id}", headers=client.headers)).json()
    assert (seen["status"], seen["payment"]["status"]) == ("refunded", "refunded")

    again = await refund(flow, attempt["id"], staff, reason="clicked again")
    assert again.status_code == 200, again.text
    assert (again.json()["id"], again.json()["state"]) == (body["id"], "refunded")
    assert again.json()["reason"] == "paid twice"
    assert len(await reversals(flow, attempt["receipt_number"])) == 1
    assert "payment.refunded" in [e["type"] for e in flow.relay.forwarded]
    admin = await flow.account(UserRole.admin)
    audited = await flow.api.get(
        "/v1/admin/audit",
        params={
            "action": "payment.refund_requested",
            "subject": f"payment_attempt:{attempt['id']}",
        },
        headers=admin.headers,
    )
    assert audited.status_code == 200, audited.text
    entries = list(reversed(audited.json()["items"]))
    assert [(e["actor"], e["details"]["requested_now"]) for e in entries] == [
        (f"user:{staff.id}", True),
        (f"user:{staff.id}", False),
    ]
    assert entries[0]["details"]["refund_id"] == body["id"]
    assert (entries[0]["details"]["amount"], entries[0]["details"]["role"]) == (900, "staff")
    assert "paid twice" not in audited.text


async def test_a_refunded_deposit_leaves_the_balance_the_sum_of_the_ledger(flow: Flow) -> None:
    client = await flow.account()
    admin = await flow.account(UserRole.admin)
    attempt = await paid(flow, "/v1/wallet/deposits", client, {"amount": 1_500, "phone": phone()})
    assert (await flow.api.get("/v1/wallet", headers=client.headers)).json()["balance"] == 1_500

    assert (await refund(flow, attempt["id"], admin)).status_code == 202
    await refunded(flow, attempt["id"], client)

    wallet = (await flow.api.get("/v1/wallet", headers=client.headers)).json()
    ledger = (await flow.api.get("/v1/wallet/ledger", headers=client.headers)).json()["items"]
    assert wallet["balance"] == 0
    assert sorted((e["kind"], e["amount"]) for e in ledger) == [
        ("deposit", 1_500),
        ("refund", -1_500),
    ]
    assert sum(e["amount"] for e in ledger) == wallet["balance"]
    async with flow.session_api.state.sessionmaker() as session:
        assert await wallet_service.find_inconsistencies(session) == []


async def test_a_refunded_booking_is_cancelled(flow: Flow) -> None:
    client = await flow.account()
    therapist = await flow.account(UserRole.therapist, rate=2_000)
    staff = await flow.account(UserRole.staff)
    created = await flow.api.post(
        "/v1/bookings",
        json={"therapist_id": therapist.id, "scheduled_at": future(), "session_type": "individual"},
        headers=client.headers,
    )
    booking_id = created.json()["id"]
    await flow.api.post(f"/v1/bookings/{booking_id}/approve", headers=therapist.headers)
    attempt = await paid(flow, f"/v1/bookings/{booking_id}/pay", client, {"phone": phone()})

    assert (await refund(flow, attempt["id"], staff, reason="therapist ill")).status_code == 202
    await refunded(flow, attempt["id"], client)

    seen = (await flow.api.get(f"/v1/bookings/{booking_id}", headers=therapist.headers)).json()
    assert (seen["status"], seen["payment"]["status"]) == ("cancelled", "refunded")


async def test_an_unpaid_attempt_is_not_refundable(flow: Flow) -> None:
    client = await flow.account()
    staff = await flow.account(UserRole.staff)
    response = await flow.api.post(
        "/v1/wallet/deposits", json={"amount": 700, "phone": phone("001")}, headers=client.headers
    )
    attempt_id = response.json()["attempt"]["id"]
    await flow.settled(attempt_id, client)

    refused = await refund(flow, attempt_id, staff)

    assert refused.status_code == 409
    assert refused.json()["error"] == "NotRefundable"
    assert "is cancelled" in refused.json()["detail"]


async def test_a_refund_m_pesa_refuses_leaves_the_money_paid_and_tells_staff(flow: Flow) -> None:
    client = await flow.account()
    staff = await flow.account(UserRole.staff)
    attempt = await paid(flow, "/v1/wallet/deposits", client, {"amount": 800, "phone": phone()})
    # M-Pesa refuses the Reversal: the initiator's credentials are wrong.
    fault = await flow.simulator.post(
        "/simulator/faults",
        json={
            "kind": "result_code",
            "result_code": "2001",
            "count": 1,
            "path": "/mpesa/reversal/v1/request",
        },
    )
    assert fault.status_code == 201, fault.text

    assert (await refund(flow, attempt["id"], staff)).status_code == 202

    email = await flow.email(staff.user.email, "Refund failed")
    assert attempt["receipt_number"] in email["subject"]
    assert "KES 800" in email["subject"]
    notes = (await flow.api.get("/v1/notifications", headers=staff.headers)).json()["items"]
    assert [n["kind"] for n in notes] == ["payment.refund_failed"]
    still = await flow.attempt(attempt["id"], client)
    assert still["status"] == "paid"
    assert (await flow.api.get("/v1/wallet", headers=client.headers)).json()["balance"] == 800
    # Nothing tells the client: their money never moved.
    client_emails = await flow.emails(client.user.email)
    assert [e["subject"] for e in client_emails if e["subject"].startswith("Refund")] == []
