"""C2B: registering the paybill's URLs, and customers paying it by hand."""

from typing import Any

from daraja_simulator.testing import PAYBILL, Receiver, Sim, assert_daraja_error

REGISTER = "/mpesa/c2b/v1/registerurl"


async def register(sim: Sim, receiver: Receiver, **fields: Any) -> Any:
    body = {
        "ShortCode": PAYBILL,
        "ResponseType": "Completed",
        "ConfirmationURL": receiver.url("/c2b/confirmation"),
        "ValidationURL": receiver.url("/c2b/validation"),
        **fields,
    }
    token = await sim.token()
    return await sim.client.post(REGISTER, json=body, headers={"Authorization": f"Bearer {token}"})


def hand_payment(**fields: Any) -> dict[str, Any]:
    return {"phone": "254708374149", "amount": 250, "account_reference": "INV-7", **fields}


async def test_a_hand_payment_is_validated_recorded_and_confirmed(
    sim: Sim, receiver: Receiver
) -> None:
    registered = await register(sim, receiver)
    assert registered.status_code == 200
    assert registered.json()["ResponseCode"] == "0"
    assert "OriginatorCoversationID" in registered.json()  # Safaricom's spelling

    paid = (await sim.client.post("/simulator/c2b", json=hand_payment())).json()

    assert (paid["accepted"], paid["confirmation_delivered"]) == (True, True)
    [validation] = receiver.at("/c2b/validation")
    [confirmation] = receiver.at("/c2b/confirmation")
    assert validation["OrgAccountBalance"] == ""
    assert (
        confirmation["TransID"],
        confirmation["TransAmount"],
        confirmation["BillRefNumber"],
    ) == (
        paid["receipt"],
        "250.00",
        "INV-7",
    )
    assert confirmation["MSISDN"] == "2547*****149"  # masked, as M-Pesa now sends it
    entry = sim.state.ledger.by_receipt(paid["receipt"])
    assert entry is not None and entry.account_reference == "INV-7"


async def test_a_lost_confirmation_still_leaves_the_money_in_the_ledger(
    sim: Sim, receiver: Receiver
) -> None:
    await register(sim, receiver)

    paid = (
        await sim.client.post("/simulator/c2b", json=hand_payment(deliver_confirmation=False))
    ).json()

    assert (paid["accepted"], paid["confirmation_delivered"]) == (True, None)
    assert receiver.at("/c2b/confirmation") == []
    assert sim.state.ledger.by_receipt(paid["receipt"]) is not None


async def test_paying_a_paybill_without_registered_urls_is_refused(sim: Sim) -> None:
    response = await sim.client.post("/simulator/c2b", json=hand_payment())

    assert response.status_code == 409
    assert response.json()["error"] == "NotRegistered"


async def test_register_names_a_bad_response_type(sim: Sim, receiver: Receiver) -> None:
    response = await register(sim, receiver, ResponseType="completed")

    assert_daraja_error(
        response, status=400, code="400.002.02", message="Bad Request - Invalid ResponseType"
    )
