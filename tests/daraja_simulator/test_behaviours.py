"""Every row of the behaviour table, end to end: the push over the Daraja path, the callback over
real HTTP to a loopback receiver, the query, and the ledger."""

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from daraja_simulator.clock import NAIROBI
from daraja_simulator.stk.repository import Checkout
from daraja_simulator.testing import Receiver, Sim, SimFactory, assert_daraja_error, decimal_json

RECEIPT = re.compile(r"^[A-Z][A-L][1-9A-V][A-Z0-9]{7}$")


def phone(code: str) -> str:
    return f"254712345{code}"


async def run(sim: Sim, code: str, amount: int = 10) -> Checkout:
    checkout_request_id = await sim.pushed(
        PhoneNumber=phone(code), PartyA=phone(code), Amount=str(amount)
    )
    return await sim.settled(checkout_request_id)


async def query_answer(sim: Sim, checkout: Checkout) -> tuple[str, str]:
    response = await sim.query(checkout.checkout_request_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ResponseCode"] == "0"
    assert body["MerchantRequestID"] == checkout.merchant_request_id
    assert body["CheckoutRequestID"] == checkout.checkout_request_id
    return body["ResultCode"], body["ResultDesc"]


async def assert_query_pending(sim: Sim, checkout: Checkout) -> None:
    response = await sim.query(checkout.checkout_request_id)
    body = assert_daraja_error(
        response, status=500, code="500.001.1001", message="The transaction is being processed"
    )
    assert body["requestId"] == checkout.checkout_request_id


def assert_success_callback(raw: bytes, sim: Sim, checkout: Checkout) -> None:
    """A success callback as Safaricom sends it, agreeing with the ledger."""
    callback = decimal_json(raw)["Body"]["stkCallback"]
    entry = sim.state.ledger.by_checkout(checkout.checkout_request_id)
    assert entry is not None
    assert set(callback) == {
        "MerchantRequestID",
        "CheckoutRequestID",
        "ResultCode",
        "ResultDesc",
        "CallbackMetadata",
    }
    assert callback["MerchantRequestID"] == checkout.merchant_request_id
    assert callback["CheckoutRequestID"] == checkout.checkout_request_id
    assert callback["ResultCode"] == 0
    assert callback["ResultDesc"] == "The service request is processed successfully."
    items = callback["CallbackMetadata"]["Item"]
    assert [i["Name"] for i in items] == [
        "Amount",
        "MpesaReceiptNumber",
        "Balance",
        "TransactionDate",
        "PhoneNumber",
    ]
    values = {i["Name"]: i.get("Value") for i in items}
    assert "Value" not in items[2]
    assert values["Amount"] == Decimal(f"{entry.amount}.00")
    assert b'"Value": %d.00' % entry.amount in raw
    assert values["MpesaReceiptNumber"] == entry.receipt
    assert RECEIPT.match(entry.receipt)
    assert isinstance(values["TransactionDate"], int)
    completed = datetime.strptime(str(values["TransactionDate"]), "%Y%m%d%H%M%S")
    assert completed.replace(tzinfo=NAIROBI) == entry.completed_at.astimezone(NAIROBI).replace(
        microsecond=0
    )
    assert values["PhoneNumber"] == int(entry.phone) == int(checkout.phone)


def assert_failure_callback(body: Any, checkout: Checkout, code: int, desc: str) -> None:
    assert body == {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": checkout.merchant_request_id,
                "CheckoutRequestID": checkout.checkout_request_id,
                "ResultCode": code,
                "ResultDesc": desc,
            }
        }
    }


class TestPays:
    async def test_any_other_number_pays(self, sim: Sim, receiver: Receiver) -> None:
        checkout = await run(sim, "149")
        await receiver.wait_for(1)

        assert_success_callback(receiver.raw[0], sim, checkout)
        assert await query_answer(sim, checkout) == (
            "0",
            "The service request is processed successfully.",
        )
        assert len(sim.state.ledger) == 1

    async def test_the_customer_answers_after_the_response_delay(self, sim: Sim) -> None:
        checkout = await run(sim, "149")

        assert checkout.completed_at is not None
        waited = (checkout.completed_at - checkout.created_at).total_seconds()
        assert waited >= sim.state.clock.scaled(sim.settings.CUSTOMER_RESPONSE_DELAY_S) * 0.9

    async def test_the_query_says_being_processed_while_the_prompt_is_open(self, sim: Sim) -> None:
        await sim.client.put(f"/simulator/behaviours/{phone('149')}", json={"behaviour": "manual"})
        checkout_request_id = await sim.pushed(PhoneNumber=phone("149"))

        await assert_query_pending(sim, sim.checkout(checkout_request_id))

    async def test_the_pending_query_can_be_the_4999_variant(self, make_sim: SimFactory) -> None:
        async with make_sim(QUERY_PENDING_STYLE="4999") as sim:
            await sim.client.put(
                f"/simulator/behaviours/{phone('149')}", json={"behaviour": "manual"}
            )
            checkout_request_id = await sim.pushed(PhoneNumber=phone("149"))
            response = await sim.query(checkout_request_id)

        assert response.status_code == 200
        assert response.json() == {
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successfully",
            "MerchantRequestID": sim.checkout(checkout_request_id).merchant_request_id,
            "CheckoutRequestID": checkout_request_id,
            "ResultCode": "4999",
            "ResultDesc": "The transaction is still under processing",
        }


@pytest.mark.parametrize(
    ("code", "result_code", "result_desc"),
    [
        ("001", 1032, "Request cancelled by user"),
        ("002", 1, "The balance is insufficient for the transaction."),
        ("003", 2001, "The initiator information is invalid."),
        ("004", 1037, "DS timeout user cannot be reached"),
        ("007", 1019, "Transaction has expired"),
    ],
)
async def test_customer_failures(
    sim: Sim, receiver: Receiver, code: str, result_code: int, result_desc: str
) -> None:
    checkout = await run(sim, code)
    await receiver.wait_for(1)

    assert_failure_callback(receiver.received[0], checkout, result_code, result_desc)
    assert await query_answer(sim, checkout) == (str(result_code), result_desc)
    assert len(sim.state.ledger) == 0
    assert checkout.receipt is None


@pytest.mark.parametrize("code", ["004", "007"])
async def test_unreachable_and_expiry_come_after_the_prompt_window(sim: Sim, code: str) -> None:
    checkout = await run(sim, code)

    assert checkout.completed_at is not None
    waited = (checkout.completed_at - checkout.created_at).total_seconds()
    assert waited >= sim.state.clock.scaled(sim.settings.PROMPT_WINDOW_S) * 0.9


async def test_005_pays_but_no_callback_is_ever_sent(sim: Sim, receiver: Receiver) -> None:
    checkout = await run(sim, "005")
    await sim.idle()

    assert receiver.received == []
    assert sim.state.callbacks.for_reference(checkout.checkout_request_id) == []
    assert await query_answer(sim, checkout) == (
        "0",
        "The service request is processed successfully.",
    )
    entry = sim.state.ledger.by_checkout(checkout.checkout_request_id)
    assert entry is not None and entry.receipt == checkout.receipt


async def test_006_the_callback_is_delivered_three_times(sim: Sim, receiver: Receiver) -> None:
    checkout = await run(sim, "006")
    await receiver.wait_for(3)
    await sim.idle()

    assert len(receiver.raw) == 3
    assert receiver.raw[0] == receiver.raw[1] == receiver.raw[2]
    assert_success_callback(receiver.raw[0], sim, checkout)
    attempts = sim.state.callbacks.for_reference(checkout.checkout_request_id)
    assert [a.delivery for a in attempts] == [1, 2, 3]
    assert len(sim.state.ledger) == 1
    assert (await query_answer(sim, checkout))[0] == "0"


async def test_008_pays_but_daraja_reports_it_late(sim: Sim, receiver: Receiver) -> None:
    checkout = await run(sim, "008")

    # Paid: M-Pesa's record has it, the phone is free again, but Daraja has not said so.
    entry = sim.state.ledger.by_checkout(checkout.checkout_request_id)
    assert entry is not None
    assert not checkout.prompt_open
    await assert_query_pending(sim, checkout)
    assert receiver.received == []

    await receiver.wait_for(1)

    assert_success_callback(receiver.raw[0], sim, checkout)
    assert (await query_answer(sim, checkout))[0] == "0"
    attempt = sim.state.callbacks.for_reference(checkout.checkout_request_id)[0]
    late_by = (attempt.started_at - entry.completed_at).total_seconds()
    assert late_by >= sim.state.clock.scaled(sim.settings.LONG_DELAY_S) * 0.9


async def test_009_callback_success_but_the_query_says_1032(sim: Sim, receiver: Receiver) -> None:
    checkout = await run(sim, "009")
    await receiver.wait_for(1)

    assert_success_callback(receiver.raw[0], sim, checkout)
    assert await query_answer(sim, checkout) == ("1032", "Request cancelled by user")
    assert sim.state.ledger.by_checkout(checkout.checkout_request_id) is not None


async def test_010_never_answers(sim: Sim, receiver: Receiver) -> None:
    checkout = await run(sim, "010")
    await sim.idle()

    # Nothing is left scheduled: no callback will ever come and the query stays pending.
    assert receiver.received == []
    assert sim.state.callbacks.attempts == []
    await assert_query_pending(sim, checkout)
    assert len(sim.state.ledger) == 0
    # The prompt is gone from the handset, so the phone can be asked again.
    assert not checkout.prompt_open
    assert (await sim.push(PhoneNumber=phone("010"), Amount="11")).status_code == 200


@pytest.mark.parametrize("code", ["149", "001", "002", "003", "004", "006", "007"])
async def test_ledger_query_and_callback_agree(sim: Sim, receiver: Receiver, code: str) -> None:
    checkout = await run(sim, code)
    await receiver.wait_for(1)
    await sim.idle()

    result_code, _ = await query_answer(sim, checkout)
    callback_codes = {b["Body"]["stkCallback"]["ResultCode"] for b in receiver.received}
    entry = sim.state.ledger.by_checkout(checkout.checkout_request_id)
    assert callback_codes == {int(result_code)}
    assert (entry is not None) == (result_code == "0")
    if entry is not None:
        items = receiver.received[0]["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
        receipt = next(i["Value"] for i in items if i["Name"] == "MpesaReceiptNumber")
        assert receipt == entry.receipt == checkout.receipt


async def test_a_behaviour_set_for_a_phone_wins_over_its_digits(
    sim: Sim, receiver: Receiver
) -> None:
    response = await sim.client.put(
        f"/simulator/behaviours/{phone('149')}", json={"behaviour": "001"}
    )
    assert response.status_code == 200

    checkout = await run(sim, "149")
    await receiver.wait_for(1)

    assert receiver.received[0]["Body"]["stkCallback"]["ResultCode"] == 1032
    assert checkout.behaviour.name == "cancel"
