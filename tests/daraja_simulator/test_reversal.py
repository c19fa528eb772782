"""Reversal, answered from the ledger with Safaricom's result codes."""

from typing import Any

import pytest

from daraja_simulator.ledger import LedgerEntry
from daraja_simulator.testing import PAYBILL, Receiver, Sim, assert_daraja_error

REVERSAL = "/mpesa/reversal/v1/request"


async def paid(sim: Sim, amount: int = 10, phone: str = "254708374149") -> LedgerEntry:
    checkout_request_id = await sim.pushed(Amount=str(amount), PhoneNumber=phone, PartyA=phone)
    await sim.settled(checkout_request_id)
    entry = sim.state.ledger.by_checkout(checkout_request_id)
    assert entry is not None
    return entry


def reversal_body(receiver: Receiver, **fields: Any) -> dict[str, Any]:
    body = {
        "Initiator": "apiop37",
        "SecurityCredential": "c2VjcmV0",
        "CommandID": "TransactionReversal",
        "TransactionID": "PDU91HIVIT",
        "Amount": "10",
        "ReceiverParty": PAYBILL,
        "RecieverIdentifierType": "11",
        "ResultURL": receiver.url("/reversal/result"),
        "QueueTimeOutURL": receiver.url("/reversal/timeout"),
        "Remarks": "Payment reversal",
    }
    body.update(fields)
    return body


async def reverse(sim: Sim, body: dict[str, Any]) -> Any:
    token = await sim.token()
    return await sim.client.post(REVERSAL, json=body, headers={"Authorization": f"Bearer {token}"})


async def results(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    await receiver.wait_for(count, path="/reversal/result")
    return [r["Result"] for r in receiver.at("/reversal/result")]


async def test_reverses_a_payment_and_gives_the_money_back(sim: Sim, receiver: Receiver) -> None:
    entry = await paid(sim, amount=1500)
    before = sim.state.ledger.balance(PAYBILL)

    response = await reverse(
        sim, reversal_body(receiver, TransactionID=entry.receipt, Amount="1500")
    )
    [result] = await results(receiver, 1)

    assert response.status_code == 200
    ack = response.json()
    assert ack["ResponseCode"] == "0"
    assert result["ConversationID"] == ack["ConversationID"]
    assert result["ResultCode"] == 0
    assert result["ResultDesc"] == "The service request is processed successfully."
    assert result["TransactionID"] != entry.receipt
    parameters = {p["Key"]: p["Value"] for p in result["ResultParameters"]["ResultParameter"]}
    assert parameters["OriginalTransactionID"] == entry.receipt
    assert parameters["Amount"] == 1500
    assert sim.state.ledger.balance(PAYBILL) == before - 1500
    assert sim.state.ledger.reversal_of(entry.receipt) == result["TransactionID"]


async def test_a_second_reversal_answers_already_reversed(sim: Sim, receiver: Receiver) -> None:
    entry = await paid(sim)
    body = reversal_body(receiver, TransactionID=entry.receipt)
    await reverse(sim, body)
    await results(receiver, 1)
    balance = sim.state.ledger.balance(PAYBILL)

    await reverse(sim, body)
    second = (await results(receiver, 2))[1]

    assert second["ResultCode"] == "R000001"
    assert second["ResultDesc"] == "The transaction has already been reversed."
    assert sim.state.ledger.balance(PAYBILL) == balance


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"TransactionID": "QAZ0000000"}, "unknown receipt"),
        ({"Amount": "11"}, "more than was paid"),
        ({"ReceiverParty": "600000"}, "another shortcode's receipt"),
    ],
)
async def test_an_invalid_original_transaction(
    sim: Sim, receiver: Receiver, fields: dict[str, str], why: str
) -> None:
    entry = await paid(sim)

    await reverse(sim, reversal_body(receiver, **{"TransactionID": entry.receipt, **fields}))
    [result] = await results(receiver, 1)

    assert result["ResultCode"] == "R000002", why
    assert result["ResultDesc"] == "The OriginalTransactionID is invalid."
    assert "ResultParameters" not in result
    assert sim.state.ledger.reversal_of(entry.receipt) is None


async def test_a_result_code_fault_refuses_the_reversal(sim: Sim, receiver: Receiver) -> None:
    entry = await paid(sim)
    fault = await sim.client.post(
        "/simulator/faults",
        json={"kind": "result_code", "result_code": "2001", "count": 1, "path": REVERSAL},
    )

    await reverse(sim, reversal_body(receiver, TransactionID=entry.receipt))
    [result] = await results(receiver, 1)

    assert fault.status_code == 201, fault.text
    assert fault.json()["result_code"] == "2001"
    assert result["ResultCode"] == "2001"
    assert result["ResultDesc"] == "The initiator information is invalid."
    assert sim.state.ledger.reversal_of(entry.receipt) is None


async def test_a_result_code_fault_needs_a_code(sim: Sim) -> None:
    response = await sim.client.post("/simulator/faults", json={"kind": "result_code"})

    assert response.status_code == 422


async def test_a_result_timeout_fault_answers_on_the_queue_timeout_url(
    sim: Sim, receiver: Receiver
) -> None:
    entry = await paid(sim)
    await sim.client.post(
        "/simulator/faults", json={"kind": "result_timeout", "count": 1, "path": REVERSAL}
    )

    await reverse(sim, reversal_body(receiver, TransactionID=entry.receipt))
    await receiver.wait_for(1, path="/reversal/timeout")
    await reverse(sim, reversal_body(receiver, TransactionID=entry.receipt))
    [result] = await results(receiver, 1)

    [timeout] = receiver.at("/reversal/timeout")
    assert timeout["Result"]["ResultCode"] == 100000001
    assert result["ResultCode"] == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"CommandID": "TransactionStatusQuery"}, "CommandID"),
        ({"Amount": "0"}, "Amount"),
        ({"Amount": "1.5"}, "Amount"),
        ({"RecieverIdentifierType": "9"}, "RecieverIdentifierType"),
        ({"Initiator": ""}, "Initiator"),
        ({"ResultURL": "not a url"}, "ResultURL"),
    ],
)
async def test_refuses_a_malformed_request(
    sim: Sim, receiver: Receiver, fields: dict[str, str], field: str
) -> None:
    response = await reverse(sim, reversal_body(receiver, **fields))

    assert_daraja_error(
        response, status=400, code="400.002.02", message=f"Bad Request - Invalid {field}"
    )


async def test_refuses_an_unknown_token(sim: Sim, receiver: Receiver) -> None:
    response = await sim.client.post(
        REVERSAL, json=reversal_body(receiver), headers={"Authorization": "Bearer nope"}
    )

    assert_daraja_error(response, status=404, code="404.001.03", message="Invalid Access Token")
