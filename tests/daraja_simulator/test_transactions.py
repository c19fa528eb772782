"""Transaction Status and Pull Transactions, answered from the ledger."""

import re
from typing import Any

import pytest

from daraja_simulator.clock import NAIROBI
from daraja_simulator.ledger import LedgerEntry
from daraja_simulator.testing import (
    PAYBILL,
    PULL_QUERY,
    PULL_REGISTER,
    STATUS,
    Receiver,
    Sim,
    SimFactory,
    assert_daraja_error,
)


async def paid(sim: Sim, amount: int = 10, phone: str = "254708374149") -> LedgerEntry:
    checkout_request_id = await sim.pushed(Amount=str(amount), PhoneNumber=phone, PartyA=phone)
    await sim.settled(checkout_request_id)
    entry = sim.state.ledger.by_checkout(checkout_request_id)
    assert entry is not None
    return entry


def status_body(receiver: Receiver, **fields: Any) -> dict[str, Any]:
    body = {
        "Initiator": "testapiuser",
        "SecurityCredential": "c2VjcmV0",
        "CommandID": "TransactionStatusQuery",
        "TransactionID": "NEF61H8J60",
        "OriginalConversationID": "",
        "PartyA": PAYBILL,
        "IdentifierType": "4",
        "ResultURL": receiver.url("/status/result"),
        "QueueTimeOutURL": receiver.url("/status/timeout"),
        "Remarks": "OK",
        "Occasion": "recon",
    }
    body.update(fields)
    return body


async def post(sim: Sim, path: str, body: Any, token: str | None = None):  # type: ignore[no-untyped-def]
    bearer = token if token is not None else await sim.token()
    return await sim.client.post(path, json=body, headers={"Authorization": f"Bearer {bearer}"})


class TestTransactionStatus:
    async def test_finds_a_payment_by_receipt(self, sim: Sim, receiver: Receiver) -> None:
        entry = await paid(sim, amount=1500)

        response = await post(sim, STATUS, status_body(receiver, TransactionID=entry.receipt))
        await receiver.wait_for(1, path="/status/result")

        assert response.status_code == 200
        ack = response.json()
        assert set(ack) == {
            "OriginatorConversationID",
            "ConversationID",
            "ResponseCode",
            "ResponseDescription",
        }
        assert ack["ResponseCode"] == "0"
        assert ack["ResponseDescription"] == "Accept the service request successfully."
        assert re.fullmatch(r"AG_\d{8}_[0-9a-f]{20}", ack["ConversationID"])
        result = receiver.at("/status/result")[0]["Result"]
        assert result["ConversationID"] == ack["ConversationID"]
        assert result["OriginatorConversationID"] == ack["OriginatorConversationID"]
        assert result["ResultCode"] == 0
        assert result["ResultDesc"] == "The service request is processed successfully."
        assert result["ResultType"] == 0
        assert result["TransactionID"] == entry.receipt
        assert result["ReferenceData"] == {"ReferenceItem": {"Key": "Occasion", "Value": "recon"}}
        parameters = {
            p["Key"]: p.get("Value") for p in result["ResultParameters"]["ResultParameter"]
        }
        assert parameters["ReceiptNo"] == entry.receipt
        assert parameters["Amount"] == "1500"
        assert parameters["TransactionStatus"] == "Completed"
        assert parameters["DebitPartyName"] == f"{entry.phone} - {entry.customer_name}"
        assert parameters["CreditPartyName"].startswith(f"{PAYBILL} - ")
        assert parameters["ReasonType"] == "Pay Bill Online"
        assert parameters["OriginatorConversationID"] == entry.merchant_request_id
        assert parameters["FinalisedTime"] == entry.completed_at.astimezone(NAIROBI).strftime(
            "%Y%m%d%H%M%S"
        )
        assert receiver.at("/status/timeout") == []

    @pytest.mark.parametrize("key", ["checkout_request_id", "merchant_request_id"])
    async def test_finds_an_stk_payment_by_its_request_ids(
        self, sim: Sim, receiver: Receiver, key: str
    ) -> None:
        entry = await paid(sim)

        body = status_body(receiver, TransactionID="", OriginalConversationID=getattr(entry, key))
        await post(sim, STATUS, body)
        await receiver.wait_for(1, path="/status/result")

        result = receiver.at("/status/result")[0]["Result"]
        assert (result["ResultCode"], result["TransactionID"]) == (0, entry.receipt)

    async def test_an_unknown_receipt(self, sim: Sim, receiver: Receiver) -> None:
        response = await post(sim, STATUS, status_body(receiver))
        await receiver.wait_for(1, path="/status/result")

        assert response.status_code == 200
        result = receiver.at("/status/result")[0]["Result"]
        assert result["ResultCode"] == 2032
        assert result["ResultDesc"] == "The transaction receipt number does not exist."
        assert "ResultParameters" not in result

    async def test_another_shortcodes_receipt_is_not_found(
        self, sim: Sim, receiver: Receiver
    ) -> None:
        entry = await paid(sim)

        await post(sim, STATUS, status_body(receiver, TransactionID=entry.receipt, PartyA="600000"))
        await receiver.wait_for(1, path="/status/result")

        assert receiver.at("/status/result")[0]["Result"]["ResultCode"] == 2032

    async def test_a_result_timeout_fault_answers_on_the_queue_timeout_url(
        self, sim: Sim, receiver: Receiver
    ) -> None:
        entry = await paid(sim)
        await sim.client.post("/simulator/faults", json={"kind": "result_timeout", "count": 1})

        await post(sim, STATUS, status_body(receiver, TransactionID=entry.receipt))
        await post(sim, STATUS, status_body(receiver, TransactionID=entry.receipt))
        await receiver.wait_for(1, path="/status/timeout")
        await receiver.wait_for(1, path="/status/result")

        [timeout] = receiver.at("/status/timeout")
        assert timeout["Result"]["ResultCode"] == 100000001
        assert "ResultParameters" not in timeout["Result"]
        assert receiver.at("/status/result")[0]["Result"]["ResultCode"] == 0

    async def test_bad_token(self, sim: Sim, receiver: Receiver) -> None:
        response = await post(sim, STATUS, status_body(receiver), token="not-a-token")

        assert_daraja_error(response, status=400, code="400.003.01", message="Invalid Access Token")

    async def test_not_json(self, sim: Sim) -> None:
        token = await sim.token()
        response = await sim.client.post(
            STATUS, content="{", headers={"Authorization": f"Bearer {token}"}
        )

        assert_daraja_error(
            response, status=400, code="400.002.05", message="Invalid Request Payload"
        )

    @pytest.mark.parametrize(
        ("field", "value", "named"),
        [
            ("CommandID", "AccountBalance", "CommandID"),
            ("Initiator", "", "Initiator"),
            ("PartyA", "12", "PartyA"),
            ("IdentifierType", "9", "IdentifierType"),
            ("ResultURL", "https://example.com/mpesa/result", "ResultURL"),
            ("QueueTimeOutURL", "nope", "QueueTimeOutURL"),
            ("Remarks", "", "Remarks"),
            ("TransactionID", "", "TransactionID"),
        ],
    )
    async def test_names_a_bad_field(
        self, sim: Sim, receiver: Receiver, field: str, value: str, named: str
    ) -> None:
        response = await post(sim, STATUS, status_body(receiver, **{field: value}))

        assert_daraja_error(
            response, status=400, code="400.002.02", message=f"Bad Request - Invalid {named}"
        )


def register_body(shortcode: str = PAYBILL) -> dict[str, str]:
    return {
        "ShortCode": shortcode,
        "RequestType": "Pull",
        "NominatedNumber": "0722000000",
        "CallBackURL": "https://example.com/pull",
    }


def pull_body(
    start: str = "2020-01-01 0:00:00", end: str = "2099-12-31 23:59:59", offset: str = "0"
) -> dict[str, str]:
    return {"ShortCode": PAYBILL, "StartDate": start, "EndDate": end, "OffSetValue": offset}


class TestPullTransactions:
    async def test_register_once(self, sim: Sim) -> None:
        first = await post(sim, PULL_REGISTER, register_body())
        again = await post(sim, PULL_REGISTER, register_body())

        assert first.status_code == 200
        body = first.json()
        assert set(body) == {"ResponseRefID", "ResponseStatus", "ShortCode", "ResponseDescription"}
        assert (body["ResponseStatus"], body["ShortCode"]) == ("1000", PAYBILL)
        assert body["ResponseDescription"] == "Shortcode Registered Successfully"
        assert again.json()["ResponseStatus"] == "1001"

    async def test_register_an_unknown_shortcode(self, sim: Sim) -> None:
        response = await post(sim, PULL_REGISTER, register_body("600000"))

        assert_daraja_error(response, status=400, code="400.001", message="Invalid ShortCode")

    async def test_bad_token(self, sim: Sim) -> None:
        response = await post(sim, PULL_REGISTER, register_body(), token="nope")

        assert_daraja_error(response, status=401, code="401.001", message="Invalid Access Token")

    async def test_query_needs_registration(self, sim: Sim) -> None:
        response = await post(sim, PULL_QUERY, pull_body())

        assert_daraja_error(response, status=400, code="400.001", message="Invalid ShortCode")

    async def test_lists_completed_payments_from_the_ledger(self, sim: Sim) -> None:
        first = await paid(sim, amount=168, phone="254708374149")
        second = await paid(sim, amount=20, phone="254711000149")
        await post(sim, PULL_REGISTER, register_body())

        response = await post(sim, PULL_QUERY, pull_body())

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"ResponseRefID", "ResponseCode", "ResponseMessage", "Response"}
        assert (body["ResponseCode"], body["ResponseMessage"]) == ("1000", "Success")
        [page] = body["Response"]
        assert [t["transactionId"] for t in page] == [first.receipt, second.receipt]
        assert page[0] == {
            "transactionId": first.receipt,
            "trxDate": first.completed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "msisdn": 254708374149,
            "sender": first.customer_name,
            "transactiontype": "c2b-pay-bill-debit",
            "billreference": "ORDER-1",
            "amount": "168.00",
            "organizationname": "Simulated Paybill 174379",
        }

    async def test_pages_with_the_offset(self, make_sim: SimFactory) -> None:
        async with make_sim(PULL_PAGE_SIZE=1) as sim:
            first = await paid(sim, amount=11)
            second = await paid(sim, amount=12)
            await post(sim, PULL_REGISTER, register_body())

            pages = [
                (await post(sim, PULL_QUERY, pull_body(offset=str(n)))).json() for n in range(3)
            ]

        assert [p["Response"][0][0]["transactionId"] for p in pages[:2]] == [
            first.receipt,
            second.receipt,
        ]
        assert (pages[2]["ResponseCode"], pages[2]["Response"]) == ("1001", [[]])

    async def test_a_shortcode_not_provisioned_answers_1001_like_an_empty_window(
        self, sim: Sim
    ) -> None:
        await paid(sim, amount=168)
        await post(sim, PULL_REGISTER, register_body())
        await sim.client.post(
            "/simulator/faults", json={"kind": "pull_not_provisioned", "count": 1}
        )

        refused = (await post(sim, PULL_QUERY, pull_body())).json()
        listed = (await post(sim, PULL_QUERY, pull_body())).json()

        assert (refused["ResponseCode"], refused["Response"]) == ("1001", [[]])
        assert refused["ResponseMessage"] == "No records found or Organization Name not available"
        assert listed["ResponseCode"] == "1000"

    async def test_only_the_last_48_hours(self, sim: Sim) -> None:
        await paid(sim)
        await post(sim, PULL_REGISTER, register_body())
        await sim.client.post("/simulator/clock/advance", json={"seconds": 49 * 3600})

        body = (await post(sim, PULL_QUERY, pull_body())).json()

        assert body["ResponseCode"] == "1001"
        assert body["Response"] == [[]]

    async def test_the_period_filters(self, sim: Sim) -> None:
        await paid(sim)
        await post(sim, PULL_REGISTER, register_body())

        body = (await post(sim, PULL_QUERY, pull_body(end="2020-08-16 10:10:000"))).json()

        assert body["ResponseCode"] == "1001"

    @pytest.mark.parametrize(
        ("field", "value"),
        [("StartDate", "04/08/2020"), ("EndDate", "2020-13-01 00:00:00"), ("OffSetValue", "-1")],
    )
    async def test_bad_query_fields(self, sim: Sim, field: str, value: str) -> None:
        await post(sim, PULL_REGISTER, register_body())

        response = await post(sim, PULL_QUERY, {**pull_body(), field: value})

        assert_daraja_error(
            response, status=400, code="400.002.02", message=f"Bad Request - Invalid {field}"
        )
