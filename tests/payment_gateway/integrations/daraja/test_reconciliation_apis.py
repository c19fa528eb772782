import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import respx

from payment_gateway.integrations.daraja import (
    DarajaClient,
    DarajaRejected,
    PullTransaction,
    ResultAck,
)
from tests.payment_gateway.integrations.daraja.answers import invalid_token

STATUS = "/mpesa/transactionstatus/v1/query"
PULL = "/pulltransactions/v1/query"
ACK = {
    "OriginatorConversationID": "1236-7134259-1",
    "ConversationID": "AG_20210709_1234409f86436c583e3f",
    "ResponseCode": "0",
    "ResponseDescription": "Accept the service request successfully.",
}
PULL_PAGE = {
    "ResponseRefID": "26178-42530161-2",
    "ResponseCode": "1000",
    "ResponseMessage": "Success",
    "Response": [
        [
            {
                "transactionId": "yzlyrEsRG1",
                "trxDate": "2020-08-05T10:13:00Z",
                "msisdn": 72200000,
                "sender": "UAT2",
                "transactiontype": "c2b-pay-bill-debit",
                "billreference": "37207636392",
                "amount": "168.00",
                "organizationname": "Daraja Pull API Test",
            }
        ]
    ],
}


async def test_transaction_status_wire_body_and_ack(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    route = daraja_mock.post(STATUS).respond(json=ACK)

    ack = await client.transaction_status(
        transaction_id="NEF61H8J60",
        originator_conversation_id=None,
        result_url="https://gw.example.com/v1/results/status",
        timeout_url="https://gw.example.com/v1/results/timeout",
        initiator="testapiuser",
        security_credential="ClONZiMYBpc65lmpJ7nvnrDmUe0WvHvA5QbOsPjEo92B6IGFwDdvdeJIFL0kgwsEKWu",
    )

    assert ack == ResultAck(
        originator_conversation_id="1236-7134259-1",
        conversation_id="AG_20210709_1234409f86436c583e3f",
        response_code="0",
        response_description="Accept the service request successfully.",
    )
    assert json.loads(route.calls.last.request.content) == {
        "Initiator": "testapiuser",
        "SecurityCredential": "ClONZiMYBpc65lmpJ7nvnrDmUe0WvHvA5QbOsPjEo92B6IGFwDdvdeJIFL0kgwsEKWu",
        "CommandID": "TransactionStatusQuery",
        "TransactionID": "NEF61H8J60",
        "PartyA": "174379",
        "IdentifierType": "4",
        "ResultURL": "https://gw.example.com/v1/results/status",
        "QueueTimeOutURL": "https://gw.example.com/v1/results/timeout",
        "Remarks": "OK",
        "Occasion": "",
    }


async def test_transaction_status_by_conversation_id_refreshes_an_invalid_token(
    client: DarajaClient, daraja_mock: respx.MockRouter, fresh_token: respx.Route
) -> None:
    route = daraja_mock.post(STATUS).mock(
        side_effect=[
            invalid_token(400, "400.003.01"),
            httpx.Response(200, json=ACK),
        ]
    )
    await client.transaction_status(
        transaction_id=None,
        originator_conversation_id="7071-4170-a0e5-8345632bad442144258",
        result_url="https://r",
        timeout_url="https://t",
        initiator="i",
        security_credential="c",
    )
    body = json.loads(route.calls.last.request.content)
    assert body["OriginalConversationID"] == "7071-4170-a0e5-8345632bad442144258"
    assert "TransactionID" not in body
    assert fresh_token.call_count == 1 and route.call_count == 2


async def test_transaction_status_needs_an_identifier(client: DarajaClient) -> None:
    with pytest.raises(ValueError, match="transaction_id or originator_conversation_id"):
        await client.transaction_status(
            transaction_id=None,
            originator_conversation_id=None,
            result_url="https://r",
            timeout_url="https://t",
            initiator="i",
            security_credential="c",
        )


async def test_transaction_status_not_accepted_is_a_rejection(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    daraja_mock.post(STATUS).respond(json={**ACK, "ResponseCode": "1"})
    with pytest.raises(DarajaRejected):
        await client.transaction_status(
            transaction_id="X",
            originator_conversation_id=None,
            result_url="https://r",
            timeout_url="https://t",
            initiator="i",
            security_credential="c",
        )


async def test_pull_transactions_wire_body_and_doubly_nested_rows(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    route = daraja_mock.post(PULL).respond(json=PULL_PAGE)

    page = await client.pull_transactions(
        start=datetime(2020, 8, 4, 5, 36, tzinfo=UTC),
        end=datetime(2020, 8, 16, 7, 10, tzinfo=UTC),
        offset=20,
    )

    assert json.loads(route.calls.last.request.content) == {
        "ShortCode": "174379",
        "StartDate": "2020-08-04 08:36:00",
        "EndDate": "2020-08-16 10:10:00",
        "OffSetValue": "20",
    }
    assert (page.response_code, page.response_message, page.response_ref_id) == (
        "1000",
        "Success",
        "26178-42530161-2",
    )
    assert page.transactions == [
        PullTransaction(
            transaction_id="yzlyrEsRG1",
            transaction_date=datetime(2020, 8, 5, 10, 13, tzinfo=UTC),
            msisdn="72200000",
            sender="UAT2",
            transaction_type="c2b-pay-bill-debit",
            bill_reference="37207636392",
            amount=Decimal("168.00"),
            organization_name="Daraja Pull API Test",
            raw=PULL_PAGE["Response"][0][0],
        )
    ]


@pytest.mark.parametrize(
    "rows",
    [
        [[]],
        "[[]]",
        None,
        [[{"amount": "1.00"}]],  # a row without a transaction id is skipped
    ],
)
async def test_pull_transactions_with_nothing_to_report(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route, rows: object
) -> None:
    daraja_mock.post(PULL).respond(
        json={
            "ResponseRefID": "r",
            "ResponseCode": "1001",
            "ResponseMessage": "No transactions",
            "Response": rows,
        }
    )
    page = await client.pull_transactions(
        start=datetime(2020, 8, 4, tzinfo=UTC), end=datetime(2020, 8, 5, tzinfo=UTC)
    )
    assert page.response_code == "1001" and page.transactions == []


async def test_pull_transactions_reads_keys_in_any_case_and_local_dates(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    daraja_mock.post(PULL).respond(
        json={
            "responseCode": 1000,
            "responseMessage": "Success",
            "response": [
                [{"TransactionID": "A1", "TrxDate": "2020-08-05 13:13:00", "Amount": 50}],
                [{"transactionid": "A2", "trxdate": "20200805131300", "amount": "1,053.00"}],
            ],
        }
    )
    page = await client.pull_transactions(
        start=datetime(2020, 8, 4, tzinfo=UTC), end=datetime(2020, 8, 5, tzinfo=UTC)
    )
    assert [(t.transaction_id, t.amount) for t in page.transactions] == [
        ("A1", Decimal(50)),
        ("A2", Decimal("1053.00")),
    ]
    assert {t.transaction_date for t in page.transactions} == {
        datetime(2020, 8, 5, 10, 13, tzinfo=UTC)
    }


async def test_pull_transactions_refuses_naive_times(client: DarajaClient) -> None:
    with pytest.raises(ValueError, match="aware"):
        await client.pull_transactions(start=datetime(2020, 1, 1), end=datetime(2020, 1, 2))
