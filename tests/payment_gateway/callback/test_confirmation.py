"""Issue 9, acceptance 1: a success is credited only when it is proven. Outside the source
allow-list (the default stacks have none) a callback that claims money is believed only once STK
Query gives the same answer; one that cannot be proven changes nothing, is recorded with its
verdict, and never blocks the genuine callback."""

from __future__ import annotations

from typing import Any

import pytest

from tests.payment_gateway.callback.forgery import (
    WAITING_CUSTOMER,
    answer_prompt,
    invented_receipt,
    msisdn,
    open_payment,
    queries_for,
    stk_callback,
    waiting_customer,
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
