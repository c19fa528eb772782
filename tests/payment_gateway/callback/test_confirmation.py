"""Issue 9, acceptance 1: a success is credited only when it is proven. Outside the source
allow-list (the default stacks have none) a callback that claims money is believed only once STK
Query gives the same answer; one that cannot be proven changes nothing, is recorded with its
verdict, and never blocks the genuine callback."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import structlog

from payment_gateway.callback import service as callback_service
from payment_gateway.config import Settings

# The simulated customer waits for the test (approve, cancel) up to a minute, scaled.
WAITING_CUSTOMER = {"PROMPT_WINDOW_S": 6000}
QUERY_PATH = "/mpesa/stkpushquery/v1/query"


def stk_callback(
    checkout_request_id: str,
    *,
    code: int | str = 0,
    desc: str = "The service request is processed successfully.",
    amount: int | None = None,
    receipt: str | None = None,
    phone: int | None = None,
) -> dict[str, Any]:
    """A callback as someone who learned its URL could write it: metadata items only if given."""
    items = [
        {"Name": name, "Value": value}
        for name, value in (("Amount", amount), ("MpesaReceiptNumber", receipt))
        if value is not None
    ]
    if phone is not None:
        items.append({"Name": "PhoneNumber", "Value": phone})
    callback: dict[str, Any] = {
        "MerchantRequestID": "29115-34620561-1",
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": code,
        "ResultDesc": desc,
    }
    if items:
        callback["CallbackMetadata"] = {"Item": items}
    return {"Body": {"stkCallback": callback}}


def invented_receipt() -> str:
    return "UF" + uuid.uuid4().hex[:8].upper()


def msisdn(phone: str) -> int:
    return int("254" + phone[1:])


async def open_payment(
    stack: Any, amount: int, phone: str | None = None
) -> tuple[dict[str, Any], str, str]:
    """A `sent` payment (by default one whose customer never answers, `010`, so STK Query says
    "being processed" for ever), its phone and its real callback URL."""
    phone = phone or stack.phone("010")
    created = (await stack.pay(phone, amount)).json()
    assert created["status"] == "sent"
    return created, phone, await stack.callback_url(phone)


async def waiting_customer(stack: Any, amount: int) -> tuple[dict[str, Any], str, str]:
    """A payment whose customer answers only when the test says so."""
    phone = stack.phone()
    response = await stack.simulator.put(
        f"/simulator/behaviours/{msisdn(phone)}", json={"behaviour": "manual"}
    )
    assert response.status_code == 200, response.text
    return await open_payment(stack, amount, phone)


async def answer_prompt(stack: Any, checkout_request_id: str, verb: str) -> None:
    response = await stack.simulator.post(f"/simulator/prompts/{checkout_request_id}/{verb}")
    assert response.status_code == 200, response.text


async def queries_for(stack: Any, checkout_request_id: str) -> int:
    return len(
        [
            q
            for q in await stack.sim_requests("stk_query")
            if q["body"]["CheckoutRequestID"] == checkout_request_id
        ]
    )


async def test_genuine_success_is_credited_once_the_query_confirms_it(make_stack: Any) -> None:
    # No poll comes first: the callback itself settles the payment.
    async with make_stack(gateway={"POLL_SCHEDULE_S": [3000]}) as stack:
        created = (await stack.pay(stack.phone("100"), 310)).json()
        completed = await stack.receiver.wait_for(created["id"], "payment.completed")
        receipt = (await stack.checkout(created["checkout_request_id"]))["receipt"]
        assert completed[0]["data"]["receipt_number"] == receipt
        [stored] = await stack.callbacks(created["id"])
        assert (stored["outcome"], stored["verdict"], stored["attempts"]) == (
            "applied",
            "confirmed",
            1,
        )
        assert await queries_for(stack, created["checkout_request_id"]) == 1
        transition = (await stack.events(created["id"]))[-1]
        assert (transition["to_status"], transition["source"]) == ("completed", "callback")
        assert transition["detail"]["confirmed_by_query"] is True


@pytest.mark.parametrize("with_phone", [True, False], ids=["with_phone", "without_phone"])
async def test_forged_success_changes_nothing_and_is_recorded_unverified(
    stack: Any, with_phone: bool
) -> None:
    created, phone, url = await open_payment(stack, 320)
    receipt = invented_receipt()
    await stack.post_callback(
        url,
        stk_callback(
            created["checkout_request_id"],
            amount=320,
            receipt=receipt,
            phone=msisdn(phone) if with_phone else None,
        ),
    )
    assert await stack.callbacks_processed(created["id"]) == ["ignored"]
    [stored] = await stack.callbacks(created["id"])
    assert stored["verdict"] == "unverified"
    # Asked on every attempt, then given up: a bounded number of tries.
    assert stored["attempts"] == stack.settings.CALLBACK_PROCESS_MAX_ATTEMPTS
    assert await queries_for(stack, created["checkout_request_id"]) >= stored["attempts"]

    payment = await stack.payment(created["id"])
    assert (payment["status"], payment["receipt_number"], payment["review_reason"]) == (
        "sent",
        None,
        None,
    )
    assert stack.receiver.types(created["id"]) == ["payment.sent"]
    note = (await stack.events(created["id"]))[-1]
    assert (note["from_status"], note["to_status"], note["reason"]) == (
        "sent",
        "sent",
        "callback_unverified",
    )
    assert (note["detail"]["receipt_number"], note["detail"]["phone_given"]) == (
        receipt,
        with_phone,
    )
    # Not held: polling still asks Daraja, so the genuine outcome can still settle it.
    assert (
        await stack.scalar(
            "SELECT next_check_at FROM gateway.payment WHERE id = :id", id=created["id"]
        )
        is not None
    )


async def test_genuine_callback_after_a_forged_mismatching_one_settles_the_payment(
    make_stack: Any,
) -> None:
    # No poll comes in between: the genuine callback itself must settle the payment.
    async with make_stack(simulator=WAITING_CUSTOMER, gateway={"POLL_SCHEDULE_S": [3000]}) as stack:
        created, phone, url = await waiting_customer(stack, 340)
        forged = invented_receipt()
        await stack.post_callback(
            url,
            stk_callback(
                created["checkout_request_id"], amount=3400, receipt=forged, phone=msisdn(phone)
            ),
        )
        assert await stack.callbacks_processed(created["id"]) == ["ignored"]
        payment = await stack.payment(created["id"])
        assert (payment["status"], payment["review_reason"]) == ("sent", None)

        await answer_prompt(stack, created["checkout_request_id"], "approve")
        completed = await stack.receiver.wait_for(created["id"], "payment.completed")
        genuine = (await stack.checkout(created["checkout_request_id"]))["receipt"]
        assert completed[0]["data"]["receipt_number"] == genuine != forged
        assert [(c["outcome"], c["verdict"]) for c in await stack.callbacks(created["id"])] == [
            ("ignored", "unverified"),
            ("applied", "confirmed"),
        ]
        assert stack.receiver.types(created["id"]) == ["payment.sent", "payment.completed"]


async def test_success_for_a_cancelled_payment_is_checked_even_from_the_allow_list(
    allow_listed_stack: Any,
) -> None:
    stack = allow_listed_stack
    phone = stack.phone("001")
    created = (await stack.pay(phone, 330)).json()
    await stack.receiver.wait_for(created["id"], "payment.cancelled")
    # From loopback, inside the allow-list: believed for anything but a contradiction.
    await stack.post_callback(
        await stack.callback_url(phone),
        stk_callback(
            created["checkout_request_id"],
            amount=330,
            receipt=invented_receipt(),
            phone=msisdn(phone),
        ),
    )
    await stack.callbacks_processed(created["id"], 2)
    forged = (await stack.callbacks(created["id"]))[-1]
    assert (forged["outcome"], forged["verdict"]) == ("ignored", "refuted")
    payment = await stack.payment(created["id"])
    assert (payment["status"], payment["receipt_number"]) == ("cancelled", None)
    note = (await stack.events(created["id"]))[-1]
    assert note["reason"] == "callback_refuted"
    assert "STK Query answers 1032" in note["detail"]["note"]
    assert stack.receiver.types(created["id"]) == ["payment.sent", "payment.cancelled"]


async def test_cancelled_payment_completes_when_daraja_confirms_the_late_success(
    make_stack: Any,
) -> None:
    # No polls: with the default schedule (about 1 s at this time scale) a busy machine could
    # let polling time the payment out before the test's cancel callback is processed.
    async with make_stack(simulator=WAITING_CUSTOMER, gateway={"POLL_SCHEDULE_S": [3000]}) as stack:
        created, _, url = await waiting_customer(stack, 350)
        # A failure moves no money, so it is believed on its URL: the payment is cancelled
        # while the prompt is still open on the phone.
        cancelled = stk_callback(
            created["checkout_request_id"], code=1032, desc="Request cancelled by user"
        )
        await stack.post_callback(url, cancelled)
        await stack.receiver.wait_for(created["id"], "payment.cancelled")

        await answer_prompt(stack, created["checkout_request_id"], "approve")
        completed = await stack.receiver.wait_for(created["id"], "payment.completed")
        genuine = (await stack.checkout(created["checkout_request_id"]))["receipt"]
        assert (completed[0]["data"]["reason"], completed[0]["data"]["receipt_number"]) == (
            "late_success",
            genuine,
        )
        assert [c["verdict"] for c in await stack.callbacks(created["id"])] == [
            "unchecked",
            "confirmed",
        ]
        last = (await stack.events(created["id"]))[-1]
        assert (last["from_status"], last["to_status"], last["detail"]["confirmed_by_query"]) == (
            "cancelled",
            "completed",
            True,
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
