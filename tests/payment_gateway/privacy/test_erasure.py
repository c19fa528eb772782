"""`POST /v1/erasures`: an erased payer's phone becomes its keyed hash wherever the gateway
stored it for those payments (the payment, the raw callbacks, the CheckoutRequestID Daraja
writes it into, the events and replays); ids, amounts, receipts and dates stay; refused while a
payment is open; a second erasure changes nothing."""

from __future__ import annotations

from typing import Any

from shared.phone import keyed_phone_hash
from tests.payment_gateway.stack import AUTH


async def erase(stack: Any, *payment_ids: str, redact: list[str] | None = None) -> Any:
    return await stack.client.post(
        "/v1/erasures",
        json={"payment_ids": list(payment_ids), "redact": redact or []},
        headers=AUTH,
    )


async def stored_mentions(stack: Any, payment_id: str, needle: str) -> int:
    return int(
        await stack.scalar(
            "SELECT (SELECT count(*) FROM gateway.payment WHERE id = :id "
            "        AND (phone LIKE :like OR checkout_request_id LIKE :like)) "
            "     + (SELECT count(*) FROM gateway.callback_inbox WHERE payment_id = :id "
            "        AND strpos(convert_from(body, 'UTF8'), :needle) > 0) "
            "     + (SELECT count(*) FROM gateway.outbox_event WHERE payment_id = :id "
            "        AND strpos(payload::text, :needle) > 0) "
            "     + (SELECT count(*) FROM gateway.payment_event WHERE payment_id = :id "
            "        AND strpos(detail::text, :needle) > 0) "
            "     + (SELECT count(*) FROM gateway.idempotency_key WHERE payment_id = :id "
            "        AND strpos(response_body, :needle) > 0)",
            id=payment_id,
            needle=needle,
            like=f"%{needle}%",
        )
    )


async def test_a_paid_payment_keeps_its_facts_and_loses_its_phone(stack: Any) -> None:
    number = stack.phone()
    created = (await stack.pay(number, 150)).json()
    paid = await stack.wait_status(created["id"], "completed")
    await stack.callbacks_processed(created["id"])
    national = number[1:]
    assert await stored_mentions(stack, created["id"], national) >= 3

    first = await erase(stack, created["id"])

    assert first.status_code == 200, first.text
    assert first.json()["payments"] == 1
    assert first.json()["callbacks"] >= 1
    assert await stored_mentions(stack, created["id"], national) == 0
    expected = keyed_phone_hash(number, key=stack.settings.ERASURE_HASH_KEY.get_secret_value())
    stored = await stack.scalar(
        "SELECT phone FROM gateway.payment WHERE id = :id", id=created["id"]
    )
    assert stored == expected
    after = await stack.payment(created["id"])
    for kept in ("id", "amount", "status", "receipt_number", "created_at"):
        assert after[kept] == paid[kept]
    new_checkout = first.json()["checkout_request_ids"][created["id"]]
    assert after["checkout_request_id"] == new_checkout != paid["checkout_request_id"]
    assert new_checkout.startswith(paid["checkout_request_id"][:-9])

    second = await erase(stack, created["id"])

    assert second.status_code == 200
    assert second.json()["payments"] == 0
    assert second.json()["checkout_request_ids"] == {created["id"]: new_checkout}
    assert (
        await stack.scalar("SELECT phone FROM gateway.payment WHERE id = :id", id=created["id"])
        == expected
    )


async def test_refused_while_a_payment_is_open(stack: Any) -> None:
    number = stack.phone("010")  # the simulated customer never answers
    created = (await stack.pay(number, 120)).json()

    refused = await erase(stack, created["id"])

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "PaymentInFlight"
    assert (await stack.payment(created["id"]))["status"] in ("pending", "sent")
    assert (
        await stack.scalar("SELECT phone FROM gateway.payment WHERE id = :id", id=created["id"])
        == "254" + number[1:]
    )


async def test_the_service_key_is_required(stack: Any) -> None:
    response = await stack.client.post("/v1/erasures", json={"payment_ids": []})

    assert response.status_code == 401
