"""Callbacks that are not simply believed or refused: a receipt another payment holds, an
unreadable result code, an STK Query outage, a callback that fails on every attempt, and
confirmation turned off."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from payment_gateway.callback import service as callback_service
from payment_gateway.config import Settings
from tests.payment_gateway.callback.forgery import (
    QUERY_PATH,
    invented_receipt,
    msisdn,
    open_payment,
    queries_for,
    stk_callback,
)


async def test_receipt_of_another_payment_is_flagged_for_staff(stack: Any) -> None:
    paid = (await stack.pay(stack.phone("100"), 360)).json()

    async def receipt_recorded() -> str | None:
        receipt: str | None = (await stack.payment(paid["id"]))["receipt_number"]
        return receipt

    receipt = await stack.until(receipt_recorded, what="the first payment's receipt")
    created, phone, url = await open_payment(stack, 361)
    await stack.post_callback(
        url,
        stk_callback(
            created["checkout_request_id"], amount=361, receipt=receipt, phone=msisdn(phone)
        ),
    )
    assert await stack.callbacks_processed(created["id"]) == ["flagged"]
    [stored] = await stack.callbacks(created["id"])
    assert (stored["verdict"], stored["attempts"]) == ("duplicate_receipt", 1)
    payment = await stack.payment(created["id"])
    assert (payment["status"], payment["receipt_number"]) == ("sent", None)
    note = (await stack.events(created["id"]))[-1]
    assert (note["reason"], note["detail"]["other_payment_id"]) == ("duplicate_receipt", paid["id"])
    assert (await stack.payment(paid["id"]))["receipt_number"] == receipt


async def test_one_receipt_for_two_payments_at_once_credits_one_and_flags_the_other(
    allow_listed_stack: Any,
) -> None:
    stack = allow_listed_stack
    receipt = invented_receipt()
    opened = [await open_payment(stack, amount) for amount in (370, 371)]
    await asyncio.gather(
        *(
            stack.post_callback(
                url,
                stk_callback(
                    created["checkout_request_id"],
                    amount=created["amount"],
                    receipt=receipt,
                    phone=msisdn(phone),
                ),
            )
            for created, phone, url in opened
        )
    )
    stored = []
    for created, _, _ in opened:
        await stack.callbacks_processed(created["id"])
        stored += await stack.callbacks(created["id"])
    assert sorted((s["outcome"], s["verdict"]) for s in stored) == [
        ("applied", "allow_listed"),
        ("flagged", "duplicate_receipt"),
    ]
    # The loser may have hit the unique receipt first: it still ends flagged, within bounds.
    assert all(s["attempts"] <= stack.settings.CALLBACK_PROCESS_MAX_ATTEMPTS for s in stored)
    payments = [await stack.payment(created["id"]) for created, _, _ in opened]
    assert sorted((p["status"], p["receipt_number"]) for p in payments) == [
        ("completed", receipt),
        ("sent", None),
    ]


async def test_unreadable_result_code_is_not_a_failure(stack: Any) -> None:
    created, _, url = await open_payment(stack, 380)
    await stack.post_callback(url, stk_callback(created["checkout_request_id"], code="Success"))
    assert await stack.callbacks_processed(created["id"]) == ["ignored"]
    [stored] = await stack.callbacks(created["id"])
    assert stored["verdict"] == "unverified"
    payment = await stack.payment(created["id"])
    assert (payment["status"], payment["result_code"]) == ("sent", None)
    assert (await stack.events(created["id"]))[-1]["detail"]["result_code"] == "Success"


async def test_unreadable_result_code_is_settled_by_daraja_answer(make_stack: Any) -> None:
    # `005`: paid, and no callback comes; the poll is far away, so only the query the
    # unreadable callback causes can settle the payment.
    async with make_stack(gateway={"POLL_SCHEDULE_S": [3000]}) as stack:
        created, _, url = await open_payment(stack, 390, stack.phone("005"))

        async def reported() -> bool:
            checkout = await stack.checkout(created["checkout_request_id"])
            return bool(checkout["stage"] == "reported")

        await stack.until(reported, what="the simulator to know the outcome")
        await stack.post_callback(
            url, stk_callback(created["checkout_request_id"], code="Processed")
        )
        completed = await stack.receiver.wait_for(created["id"], "payment.completed")
        assert (completed[0]["data"]["result_code"], completed[0]["data"]["receipt_number"]) == (
            "0",
            None,
        )
        [stored] = await stack.callbacks(created["id"])
        assert (stored["outcome"], stored["verdict"]) == ("applied", "unverified")
        transition = next(
            t for t in await stack.events(created["id"]) if t["to_status"] == "completed"
        )
        assert (transition["source"], transition["detail"]["callback_id"]) == (
            "query",
            stored["id"],
        )


async def test_query_outage_leaves_the_payment_to_polling(make_stack: Any) -> None:
    async with make_stack(gateway={"DARAJA_QUERY_MAX_RETRIES": 0}) as stack:
        await stack.fault(kind="outage", path=QUERY_PATH)
        created = (await stack.pay(stack.phone("100"), 400)).json()
        assert await stack.callbacks_processed(created["id"]) == ["ignored"]
        [stored] = await stack.callbacks(created["id"])
        assert (stored["verdict"], stored["attempts"]) == (
            "unverified",
            stack.settings.CALLBACK_PROCESS_MAX_ATTEMPTS,
        )
        assert "STK Query failed" in stored["note"]
        assert (await stack.payment(created["id"]))["status"] == "sent"

        await stack.clear_faults()
        completed = await stack.receiver.wait_for(created["id"], "payment.completed")
        # Proven by the poll's query, which carries no receipt; the callback's was never proven.
        assert completed[0]["data"]["receipt_number"] is None
        transition = next(
            t for t in await stack.events(created["id"]) if t["to_status"] == "completed"
        )
        assert transition["source"] == "query"


async def test_callback_failing_on_every_attempt_ends_in_error(make_stack: Any) -> None:
    gateway = {"CALLBACK_ALLOWED_CIDRS": ["127.0.0.0/8"], "POLL_SCHEDULE_S": [3000]}
    async with make_stack(gateway=gateway) as stack:
        created, phone, url = await open_payment(stack, 410)
        # A fault no retry cures: PostgreSQL refuses every change to this payment.
        await stack.execute(
            "CREATE FUNCTION gateway.test_refuse_change() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
        )
        await stack.execute(
            "CREATE TRIGGER test_refuse_change BEFORE UPDATE ON gateway.payment FOR EACH ROW "
            f"WHEN (OLD.id = '{created['id']}') EXECUTE FUNCTION gateway.test_refuse_change()"
        )
        try:
            await stack.post_callback(
                url,
                stk_callback(
                    created["checkout_request_id"],
                    amount=410,
                    receipt=invented_receipt(),
                    phone=msisdn(phone),
                ),
            )
            assert await stack.callbacks_processed(created["id"]) == ["error"]
        finally:
            await stack.execute("DROP TRIGGER test_refuse_change ON gateway.payment")
            await stack.execute("DROP FUNCTION gateway.test_refuse_change()")
        [stored] = await stack.callbacks(created["id"])
        assert stored["attempts"] == stack.settings.CALLBACK_PROCESS_MAX_ATTEMPTS
        assert "refused by the test" in stored["note"]
        # Final: the sweep only picks up callbacks nobody finished.
        assert stored["processed_at"] is not None
        assert (await stack.payment(created["id"]))["status"] == "sent"


async def test_with_confirmation_off_a_callback_is_believed_on_its_url(make_stack: Any) -> None:
    gateway = {"CALLBACK_CONFIRM_BY_QUERY": False, "POLL_SCHEDULE_S": [3000]}
    async with make_stack(gateway=gateway) as stack:
        created, phone, url = await open_payment(stack, 420)
        receipt = invented_receipt()
        await stack.post_callback(
            url,
            stk_callback(
                created["checkout_request_id"], amount=420, receipt=receipt, phone=msisdn(phone)
            ),
        )
        completed = await stack.receiver.wait_for(created["id"], "payment.completed")
        assert completed[0]["data"]["receipt_number"] == receipt
        assert [c["verdict"] for c in await stack.callbacks(created["id"])] == ["unchecked"]
        assert await queries_for(stack, created["checkout_request_id"]) == 0


def test_turning_confirmation_off_is_logged() -> None:
    with structlog.testing.capture_logs() as logs:
        callback_service.log_trust_policy(Settings(CALLBACK_CONFIRM_BY_QUERY=False))
        callback_service.log_trust_policy(Settings())
    assert [(entry["event"], entry["log_level"]) for entry in logs] == [
        ("callback_confirmation_disabled", "warning"),
        ("callback_confirmation_by_query", "info"),
    ]
