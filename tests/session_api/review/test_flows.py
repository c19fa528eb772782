"""Review through the real gateway: a payment whose callback's amount disagreed is held; staff
accept it (the booking is confirmed) or reject it (the client can pay again)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
import pytest

from session_api.models import PaymentAttempt, UserRole
from tests.session_api.fixtures import Account, future
from tests.session_api.flows.flow import SERVICE_KEY, Flow, FlowFactory, phone, until

# The loopback allow-list stands in for Safaricom's addresses, so a callback is believed on its
# URL and checked against what was asked.
ALLOW_LOOPBACK = {"CALLBACK_ALLOWED_CIDRS": ["127.0.0.0/8"]}


@pytest.fixture
async def flow(make_flow: FlowFactory) -> Any:
    async with make_flow(gateway=ALLOW_LOOPBACK) as running:
        yield running


async def held_booking(flow: Flow) -> tuple[Account, str, dict[str, Any], str]:
    """A client's approved booking whose payment is held (amount mismatch): the client, the
    booking id, the attempt, and the receipt the held callback carried."""
    client = await flow.account()
    therapist = await flow.account(UserRole.therapist, rate=2_200)
    created = await flow.api.post(
        "/v1/bookings",
        json={"therapist_id": therapist.id, "scheduled_at": future(), "session_type": "individual"},
        headers=client.headers,
    )
    booking_id = created.json()["id"]
    await flow.api.post(f"/v1/bookings/{booking_id}/approve", headers=therapist.headers)
    number = phone("010")  # the customer never answers; only our crafted callback does
    response = await flow.api.post(
        f"/v1/bookings/{booking_id}/pay", json={"phone": number}, headers=client.headers
    )
    attempt = response.json()
    async with flow.session_api.state.sessionmaker() as session:
        row = await session.get(PaymentAttempt, uuid.UUID(attempt["id"]))
        assert row is not None
        gateway_payment_id, checkout_request_id = row.gateway_payment_id, row.checkout_request_id
    pushes = (await flow.simulator.get("/simulator/requests", params={"api": "stk_push"})).json()
    push = next(
        r["body"] for r in pushes["requests"] if r["body"]["PhoneNumber"] == "254" + number[1:]
    )
    receipt = "UHR" + secrets.token_hex(4).upper()
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            push["CallBackURL"],
            json=callback(checkout_request_id or "", number, receipt, amount=22),
        )
    assert answer.status_code == 200, answer.text

    async def is_held() -> bool:
        payment = await flow.gateway.get(
            f"/v1/payments/{gateway_payment_id}", headers={"Authorization": f"Bearer {SERVICE_KEY}"}
        )
        return bool(payment.json().get("review_reason") == "amount_mismatch")

    await until(is_held, what="the payment to be held")
    return client, booking_id, attempt, receipt


def callback(checkout_request_id: str, number: str, receipt: str, *, amount: int) -> dict[str, Any]:
    return {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": "29115-34620561-1",
                "CheckoutRequestID": checkout_request_id,
                "ResultCode": 0,
                "ResultDesc": "The service request is processed successfully.",
                "CallbackMetadata": {
                    "Item": [
                        {"Name": "Amount", "Value": amount},
                        {"Name": "MpesaReceiptNumber", "Value": receipt},
                        {"Name": "TransactionDate", "Value": 20261201101502},
                        {"Name": "PhoneNumber", "Value": int("254" + number[1:])},
                    ]
                },
            }
        }
    }


async def review(flow: Flow, attempt_id: str, staff: Account, decision: str) -> httpx.Response:
    return await flow.api.post(
        f"/v1/admin/payments/{attempt_id}/review",
        json={"decision": decision, "note": "checked the M-Pesa statement"},
        headers=staff.headers,
    )


async def test_a_held_payment_accepted_confirms_the_booking(flow: Flow) -> None:
    client, booking_id, attempt, receipt = await held_booking(flow)
    staff = await flow.account(UserRole.staff)
    assert (await flow.attempt(attempt["id"], client))["status"] == "processing"

    response = await review(flow, attempt["id"], staff, "accept")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["decision"], body["gateway_status"]) == ("accept", "completed")
    assert (body["attempt"]["status"], body["attempt"]["receipt_number"]) == ("paid", receipt)
    seen = (await flow.api.get(f"/v1/bookings/{booking_id}", headers=client.headers)).json()
    assert (seen["status"], seen["payment"]["status"]) == ("confirmed", "paid")
    assert seen["payment"]["receipt_number"] == receipt

    again = await review(flow, attempt["id"], staff, "reject")
    assert again.status_code == 409
    assert again.json()["error"] == "ReviewConflict"
    assert "is completed and not held" in again.json()["detail"]


async def test_a_decision_is_audited_and_its_timeline_names_the_person_by_id(flow: Flow) -> None:
    _, _, attempt, _ = await held_booking(flow)
    staff = await flow.account(UserRole.staff)
    admin = await flow.account(UserRole.admin)

    assert (await review(flow, attempt["id"], staff, "accept")).status_code == 200

    audited = await flow.api.get(
        "/v1/admin/audit",
        params={"action": "payment.reviewed", "subject": f"payment_attempt:{attempt['id']}"},
        headers=admin.headers,
    )
    [entry] = audited.json()["items"]
    assert entry["actor"] == f"user:{staff.id}"
    assert entry["details"]["decision"] == "accept"
    assert (entry["details"]["role"], entry["details"]["gateway_status"]) == ("staff", "completed")
    assert "checked the M-Pesa statement" not in audited.text
    # The gateway keeps the id only; the console shows the person's name beside it.
    detail = await flow.api.get(f"/v1/admin/payments/{attempt['id']}", headers=admin.headers)
    assert detail.status_code == 200, detail.text
    decisions = [e for e in detail.json()["timeline"] if e["reason"] == "review_accepted"]
    assert [(e["actor"], e["actor_name"]) for e in decisions] == [
        (f"admin:user:{staff.id}", staff.user.full_name)
    ]
    assert staff.user.email not in detail.text


async def test_a_held_payment_rejected_lets_the_client_pay_again(flow: Flow) -> None:
    client, booking_id, attempt, _ = await held_booking(flow)
    admin = await flow.account(UserRole.admin)
    blocked = await flow.api.post(
        f"/v1/bookings/{booking_id}/pay", json={"phone": phone()}, headers=client.headers
    )
    assert blocked.status_code == 409  # the held attempt still waits

    response = await review(flow, attempt["id"], admin, "reject")

    assert response.status_code == 200, response.text
    assert response.json()["attempt"]["status"] == "failed"
    assert response.json()["attempt"]["can_retry"] is True
    second = await flow.api.post(
        f"/v1/bookings/{booking_id}/pay", json={"phone": phone()}, headers=client.headers
    )
    assert second.status_code == 201, second.text
    assert second.json()["attempt_number"] == 2
    await flow.settled(second.json()["id"], client)
    seen = (await flow.api.get(f"/v1/bookings/{booking_id}", headers=client.headers)).json()
    assert seen["status"] == "confirmed"
