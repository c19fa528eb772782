"""`POST /v1/erasures`: an erased payer's phone becomes its keyed hash wherever the gateway
stored it for those payments (the payment, the raw callbacks, the CheckoutRequestID Daraja
writes it into, the events and replays); ids, amounts, receipts and dates stay; refused while a
payment is open; a second erasure changes nothing."""

from __future__ import annotations

import json
import uuid
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


async def test_transaction_status_results_and_c2b_confirmations_are_blanked(stack: Any) -> None:
    number = stack.phone()
    created = (await stack.pay(number, 130)).json()
    paid = await stack.wait_status(created["id"], "completed")
    receipt = paid["receipt_number"]
    msisdn = "254" + number[1:]
    token, c2b_token = uuid.uuid4().hex, uuid.uuid4().hex
    status_result = {
        "Result": {
            "ResultParameters": {
                "ResultParameter": [
                    {"Key": "DebitPartyName", "Value": f"{msisdn} - Zawadi Kerubo"},
                    {"Key": "ReceiptNo", "Value": receipt},
                ]
            }
        }
    }
    confirmation = {"TransID": receipt, "MSISDN": msisdn, "FirstName": "Zawadi"}
    run_id = uuid.uuid4()
    # A Transaction Status run asked about the payment; its result and a C2B confirmation name
    # the payer (written as reconciliation stores them).
    await stack.scalar(
        "INSERT INTO gateway.reconciliation_run (id, run_key, shortcode, window_start, "
        "window_end, sources, status, requested_by) VALUES (:id, :key, '174379', "
        "now() - interval '1 day', now(), '{transaction_status}', 'completed', 'test') "
        "RETURNING id",
        id=run_id,
        key=f"erasure-{run_id}",
    )
    await stack.scalar(
        "INSERT INTO gateway.status_query (run_id, payment_id, token_hash, state) "
        "VALUES (:run, :payment, :token, 'answered') RETURNING id",
        run=run_id,
        payment=created["id"],
        token=token,
    )
    for kind, token_hash, body in (
        ("result", token, status_result),
        ("c2b", c2b_token, confirmation),
    ):
        await stack.scalar(
            "INSERT INTO gateway.result_inbox (token_hash, kind, dedupe_key, body) "
            "VALUES (:token, :kind, :key, :body) RETURNING id",
            token=token_hash,
            kind=kind,
            key=uuid.uuid4().hex,
            body=json.dumps(body).encode(),
        )

    erased = await erase(stack, created["id"], redact=["Zawadi Kerubo", "Zawadi"])

    assert erased.status_code == 200, erased.text
    left = await stack.scalar(
        "SELECT count(*) FROM gateway.result_inbox WHERE token_hash IN (:a, :b) AND "
        "(strpos(convert_from(body, 'UTF8'), :number) > 0 "
        " OR strpos(convert_from(body, 'UTF8'), 'Zawadi') > 0)",
        a=token,
        b=c2b_token,
        number=number[1:],
    )
    assert left == 0
    kept = await stack.scalar(
        "SELECT count(*) FROM gateway.result_inbox WHERE token_hash IN (:a, :b) "
        "AND strpos(convert_from(body, 'UTF8'), :receipt) > 0",
        a=token,
        b=c2b_token,
        receipt=receipt,
    )
    assert kept == 2
