"""Starting a payment: idempotency, concurrency, and a 4xx naming every invalid field."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
AUTH = {"Authorization": "Bearer test-service-key"}


def body(phone: str, amount: Any = 100, **overrides: Any) -> dict[str, Any]:
    return {
        "amount": amount,
        "phone": phone,
        "account_reference": "BK-1042",
        "description": "Session",
        "metadata": {"payable": "booking:1042", "attempt": 1},
        **overrides,
    }


async def test_replay_returns_the_first_response(stack: Any) -> None:
    phone = stack.phone("010")
    request = body(phone)
    headers = {**AUTH, "Idempotency-Key": f"booking-1042-attempt-1-{phone}"}
    first = await stack.client.post("/v1/payments", json=request, headers=headers)
    again = await stack.client.post("/v1/payments", json=request, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert first.json()["metadata"] == {"payable": "booking:1042", "attempt": 1}
    assert len(await stack.pushes(phone)) == 1


async def test_same_key_with_another_body_is_422(stack: Any) -> None:
    phone = stack.phone("010")
    headers = {**AUTH, "Idempotency-Key": f"key-reused-{phone}"}
    first = await stack.client.post("/v1/payments", json=body(phone), headers=headers)
    other = await stack.client.post("/v1/payments", json=body(phone, 200), headers=headers)
    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json()["error"] == "IdempotencyKeyReused"
    assert f"key-reused-{phone}" in other.json()["detail"]
    assert len(await stack.pushes(phone)) == 1


async def test_concurrent_duplicate_is_409(stack: Any) -> None:
    # Daraja slow to answer: the first request is still pushing when the second arrives.
    await stack.fault(kind="latency", latency_s=0.5, count=1, path=PUSH_PATH)
    phone = stack.phone("010")
    request = body(phone)
    headers = {**AUTH, "Idempotency-Key": f"double-click-{phone}"}
    responses = await asyncio.gather(
        stack.client.post("/v1/payments", json=request, headers=headers),
        stack.client.post("/v1/payments", json=request, headers=headers),
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409]
    conflict = next(r for r in responses if r.status_code == 409)
    assert conflict.json()["error"] == "IdempotencyKeyInUse"
    assert int(conflict.headers["retry-after"]) >= 1
    assert len(await stack.pushes(phone)) == 1
    replay = await stack.client.post("/v1/payments", json=request, headers=headers)
    created = next(r for r in responses if r.status_code == 201)
    assert replay.content == created.content


async def test_fifty_concurrent_initiations_all_reach_sent(stack: Any) -> None:
    phones = [stack.phone("010") for _ in range(50)]
    responses = await asyncio.gather(*(stack.pay(phone, 100 + i) for i, phone in enumerate(phones)))
    assert [r.status_code for r in responses] == [201] * 50
    assert {r.json()["status"] for r in responses} == {"sent"}
    assert len({r.json()["checkout_request_id"] for r in responses}) == 50
    sent = "SELECT count(*) FROM gateway.payment WHERE status = 'sent' AND phone = ANY(:phones)"
    assert await stack.scalar(sent, phones=["254" + p[1:] for p in phones]) == 50


async def test_second_open_payment_for_a_phone_is_refused(stack: Any) -> None:
    phone = stack.phone("010")
    first = await stack.pay(phone, 100)
    assert first.status_code == 201
    busy = await stack.pay("+254 " + phone[1:], 300)
    assert busy.status_code == 409
    assert busy.json()["error"] == "PhoneBusy"
    assert "one prompt per phone" in busy.json()["detail"]
    # The open payment may be another customer's: its id is not for this caller to see.
    assert first.json()["id"] not in busy.text
    assert len(await stack.pushes(phone)) == 1


async def test_concurrent_payments_for_one_phone_let_one_through(stack: Any) -> None:
    phone = stack.phone("010")
    responses = await asyncio.gather(*(stack.pay(phone, 100 + i) for i in range(5)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    assert len(await stack.pushes(phone)) == 1


async def test_same_phone_and_amount_within_two_minutes_is_refused(stack: Any) -> None:
    phone = stack.phone("001")
    first = (await stack.pay(phone, 450)).json()
    await stack.receiver.wait_for(first["id"], "payment.cancelled")
    again = await stack.pay(phone, 450)
    assert again.status_code == 409
    assert again.json()["error"] == "DuplicatePayment"
    assert first["id"] not in again.text
    assert 1 <= int(again.headers["retry-after"]) <= 121
    other_amount = await stack.pay(phone, 451)
    assert other_amount.status_code == 201
    assert len(await stack.pushes(phone)) == 2


async def test_phone_forms_are_normalised(stack: Any) -> None:
    number = stack.phone("010")[1:]  # 9 significant digits
    response = await stack.pay(f"+254-{number[:3]} {number[3:6]} {number[6:]}", 100)
    assert response.status_code == 201, response.text
    assert response.json()["phone"] == f"254*****{number[-4:]}"
    stored = "SELECT phone FROM gateway.payment WHERE id = :id"
    assert await stack.scalar(stored, id=response.json()["id"]) == "254" + number
    push = (await stack.pushes(number))[0]["body"]
    assert push["PhoneNumber"] == push["PartyA"] == "254" + number


INVALID = [
    ("amount", {"amount": 0}, "amount"),
    ("amount", {"amount": 12.5}, "whole number"),
    ("amount", {"amount": "100"}, "JSON integer"),
    ("amount", {"amount": True}, "amount"),
    ("amount", {"amount": 250_001}, "1 to 250000"),
    ("phone", {"phone": "12345"}, "07XXXXXXXX"),
    ("phone", {"phone": "+255712345678"}, "phone"),
    ("phone", {"phone": "0812345678"}, "phone"),
    ("phone", {"phone": 712345678}, "phone"),
    ("account_reference", {"account_reference": ""}, "account_reference"),
    ("account_reference", {"account_reference": "ABCDEFGHIJKLM"}, "1 to 12"),
    ("account_reference", {"account_reference": "A&B"}, "account_reference"),
    ("description", {"description": "Fourteen chars"}, "1 to 13"),
    ("description", {"description": "pay@shop"}, "description"),
    ("metadata", {"metadata": [1, 2]}, "JSON object"),
    ("metadata", {"metadata": {str(i): i for i in range(21)}}, "20 keys"),
    ("metadata", {"metadata": {"blob": "x" * 3000}}, "2048 bytes"),
    ("metadata", {"metadata": {"note": "a\x00b"}}, "U+0000"),
    ("metadata", {"metadata": {"a\x00": 1}}, "U+0000"),
    ("metadata", {"metadata": {"deep": json.loads("[" * 40 + "]" * 40)}}, "nested"),
    ("amount", {"amount": 10**30}, "1 to 250000"),
    ("phone", {"phone": "07\u0661\u0662345678"}, "07XXXXXXXX"),
    ("amout", {"amout": 5}, "amout"),
]


@pytest.mark.parametrize(
    ("field", "change", "hint"), INVALID, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(INVALID)]
)
async def test_each_invalid_field_is_named(
    stack: Any, field: str, change: dict[str, Any], hint: str
) -> None:
    phone = stack.phone("010")
    key = f"invalid-{uuid.uuid4()}"
    response = await stack.client.post(
        "/v1/payments",
        json={**body(phone), **change},
        headers={**AUTH, "Idempotency-Key": key},
    )
    assert 400 <= response.status_code < 500
    detail = response.json()["detail"]
    assert field in detail
    assert hint in detail
    assert await stack.pushes(phone) == []
    stored = "SELECT count(*) FROM gateway.idempotency_key WHERE key = :key"
    assert await stack.scalar(stored, key=key) == 0


async def test_missing_idempotency_key_is_named(stack: Any) -> None:
    response = await stack.client.post("/v1/payments", json=body("0712345678"), headers=AUTH)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", "Basic dGVzdA=="])
async def test_service_key_is_required(stack: Any, authorization: str | None) -> None:
    headers = {"Idempotency-Key": "no-auth"}
    if authorization:
        headers["Authorization"] = authorization
    response = await stack.client.post("/v1/payments", json=body("0712345678"), headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "InvalidApiKey"
    assert response.headers["www-authenticate"] == "Bearer"
    listing = await stack.client.get("/v1/payments", headers=headers)
    assert listing.status_code == 401
