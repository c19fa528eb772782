import base64
import json

import httpx
import pytest
import respx
from prometheus_client import REGISTRY

from payment_gateway.integrations.daraja import (
    DarajaClient,
    DarajaRateLimited,
    DarajaRejected,
    DarajaSubscriberBusy,
    DarajaTokenInvalid,
    DarajaUnavailable,
    StkPushAccepted,
)

ACCEPTED = {
    "MerchantRequestID": "2654-4b64-97ff-b827b542881d3130",
    "CheckoutRequestID": "ws_CO_1007202409152617172396192",
    "ResponseCode": "0",
    "ResponseDescription": "Success. Request accepted for processing",
    "CustomerMessage": "Success. Request accepted for processing",
}
PUSH = "/mpesa/stkpush/v1/processrequest"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


async def push(client: DarajaClient) -> StkPushAccepted:
    return await client.stk_push(
        phone="254708374149",
        amount=10,
        account_reference="INV-42",
        description="Session fee",
        callback_url="https://gw.example.com/v1/callbacks/stk/abc",
    )


async def test_sends_the_exact_wire_body_and_returns_the_ids(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    route = daraja_mock.post(PUSH).respond(json=ACCEPTED)

    accepted = await push(client)

    assert accepted == StkPushAccepted(
        merchant_request_id=ACCEPTED["MerchantRequestID"],
        checkout_request_id=ACCEPTED["CheckoutRequestID"],
        response_code="0",
        response_description="Success. Request accepted for processing",
        customer_message="Success. Request accepted for processing",
    )
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer tok-1"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    timestamp = body["Timestamp"]
    assert len(timestamp) == 14 and timestamp.isdigit()
    assert body == {
        "BusinessShortCode": "174379",
        "Password": base64.b64encode(f"174379{SANDBOX_PASSKEY}{timestamp}".encode()).decode(),
        "Timestamp": timestamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 10,
        "PartyA": "254708374149",
        "PartyB": "174379",
        "PhoneNumber": "254708374149",
        "CallBackURL": "https://gw.example.com/v1/callbacks/stk/abc",
        "AccountReference": "INV-42",
        "TransactionDesc": "Session fee",
    }
    assert token_route.call_count == 1
    oauth = token_route.calls.last.request
    assert oauth.url.params["grant_type"] == "client_credentials"
    assert (
        oauth.headers["authorization"] == "Basic " + base64.b64encode(b"ck-test:cs-test").decode()
    )


async def test_customer_message_may_be_missing(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    daraja_mock.post(PUSH).respond(
        json={k: v for k, v in ACCEPTED.items() if k != "CustomerMessage"}
    )
    accepted = await push(client)
    assert accepted.customer_message is None
    assert accepted.checkout_request_id == ACCEPTED["CheckoutRequestID"]


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (
            400,
            {
                "requestId": "9458-79414631-1",
                "errorCode": "400.002.02",
                "errorMessage": "Bad Request - Invalid PhoneNumber",
            },
            DarajaRejected,
            "400.002.02",
        ),
        (
            500,
            {
                "requestId": "2ba8-4165-beca-292db11f9ef8358609",
                "errorCode": "500.001.1001",
                "errorMessage": "Wrong credentials",
            },
            DarajaRejected,
            "500.001.1001",
        ),
        (
            500,
            {
                "requestId": "1494-250373-3",
                "errorCode": "500.001.1001",
                "errorMessage": "[MerchantValidate] - Wrong credentials",
            },
            DarajaRejected,
            "500.001.1001",
        ),
        (
            500,
            {
                "requestId": "x-1",
                "errorCode": "500.001.1001",
                "errorMessage": "Merchant does not exist",
            },
            DarajaRejected,
            "500.001.1001",
        ),
        (
            500,
            {
                "requestId": "x-2",
                "errorCode": "500.001.1001",
                "errorMessage": "Unable to lock subscriber, a transaction is already in process "
                "for the current subscriber",
            },
            DarajaSubscriberBusy,
            "500.001.1001",
        ),
        (
            500,
            {
                "requestId": "x-3",
                "errorCode": "500.003.02",
                "errorMessage": "Error Occurred: Spike Arrest Violation",
            },
            DarajaRateLimited,
            "500.003.02",
        ),
        (
            500,
            {"requestId": "x-4", "errorCode": "500.003.03", "errorMessage": "Quota Violation"},
            DarajaRateLimited,
            "500.003.03",
        ),
        (
            500,
            {
                "requestId": "x-5",
                "errorCode": "500.003.1001",
                "errorMessage": "Internal Server Error",
            },
            DarajaUnavailable,
            "500.003.1001",
        ),
    ],
)
async def test_error_envelopes_become_typed_errors(
    client: DarajaClient,
    daraja_mock: respx.MockRouter,
    token_route: respx.Route,
    status: int,
    body: dict[str, str],
    error: type[Exception],
    code: str,
) -> None:
    route = daraja_mock.post(PUSH).respond(status, json=body)

    with pytest.raises(error) as raised:
        await push(client)

    assert raised.value.error_code == code  # type: ignore[attr-defined]
    assert raised.value.http_status == status  # type: ignore[attr-defined]
    assert raised.value.request_id == body["requestId"]  # type: ignore[attr-defined]
    assert route.call_count == 1, "an STK push is never repeated by the client"


async def test_an_html_gateway_page_is_unavailable_and_maybe_processed(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    route = daraja_mock.post(PUSH).respond(504, html="<html><body>Gateway Timeout</body></html>")
    with pytest.raises(DarajaUnavailable) as raised:
        await push(client)
    assert raised.value.maybe_processed is True
    assert raised.value.retryable is True
    assert route.call_count == 1


async def test_a_read_timeout_is_not_retried_and_may_have_rung_the_phone(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    route = daraja_mock.post(PUSH).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(DarajaUnavailable) as raised:
        await push(client)
    assert raised.value.maybe_processed is True
    assert isinstance(raised.value.__cause__, httpx.ReadTimeout)
    assert route.call_count == 1


async def test_a_refused_connection_surely_did_not_reach_daraja(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    daraja_mock.post(PUSH).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(DarajaUnavailable) as raised:
        await push(client)
    assert raised.value.maybe_processed is False


async def test_invalid_token_refreshes_once_and_succeeds(
    client: DarajaClient, daraja_mock: respx.MockRouter
) -> None:
    tokens = daraja_mock.get("/oauth/v1/generate").mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "stale", "expires_in": "3599"}),
            httpx.Response(200, json={"access_token": "fresh", "expires_in": 3599}),
        ]
    )
    route = daraja_mock.post(PUSH).mock(
        side_effect=[
            httpx.Response(
                404,
                json={
                    "requestId": "10219-2484793-1",
                    "errorCode": "404.001.03",
                    "errorMessage": "Invalid Access Token",
                },
            ),
            httpx.Response(200, json=ACCEPTED),
        ]
    )

    accepted = await push(client)

    assert accepted.checkout_request_id == ACCEPTED["CheckoutRequestID"]
    assert tokens.call_count == 2
    assert [c.request.headers["authorization"] for c in route.calls] == [
        "Bearer stale",
        "Bearer fresh",
    ]
    assert await client.tokens.cached() == "fresh"


async def test_a_token_refused_twice_is_an_auth_error(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    route = daraja_mock.post(PUSH).respond(
        404,
        json={"requestId": "r", "errorCode": "404.001.03", "errorMessage": "Invalid Access Token"},
    )
    with pytest.raises(DarajaTokenInvalid):
        await push(client)
    assert route.call_count == 2
    assert token_route.call_count == 2
    assert await client.tokens.cached() is None


async def test_a_non_zero_response_code_is_a_rejection(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    daraja_mock.post(PUSH).respond(
        json={**ACCEPTED, "ResponseCode": "1", "ResponseDescription": "Rejected"}
    )
    with pytest.raises(DarajaRejected) as raised:
        await push(client)
    assert raised.value.error_code == "1"


async def test_a_success_without_ids_is_unavailable(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    daraja_mock.post(PUSH).respond(json={"ResponseCode": "0"})
    with pytest.raises(DarajaUnavailable) as raised:
        await push(client)
    assert raised.value.maybe_processed is True


@pytest.mark.parametrize("phone", ["0708374149", "+254708374149", "25470837414", "254608374149"])
async def test_refuses_phones_that_were_not_normalised(client: DarajaClient, phone: str) -> None:
    with pytest.raises(ValueError, match="normalised"):
        await client.stk_push(
            phone=phone, amount=1, account_reference="A", description="B", callback_url="https://x"
        )


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
async def test_refuses_amounts_that_are_not_whole_kes(client: DarajaClient, amount: int) -> None:
    with pytest.raises(ValueError, match="whole number"):
        await client.stk_push(
            phone="254708374149",
            amount=amount,
            account_reference="A",
            description="B",
            callback_url="https://x",
        )


async def test_records_latency_and_errors_by_operation(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    def sample(name: str, labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    ok_before = sample(
        "daraja_call_duration_seconds_count", {"operation": "stk_push", "outcome": "ok"}
    )
    err_before = sample(
        "daraja_errors_total", {"operation": "stk_push", "error_code": "400.002.02"}
    )
    daraja_mock.post(PUSH).mock(
        side_effect=[
            httpx.Response(200, json=ACCEPTED),
            httpx.Response(
                400,
                json={
                    "requestId": "r",
                    "errorCode": "400.002.02",
                    "errorMessage": "Bad Request - Invalid Amount",
                },
            ),
        ]
    )
    await push(client)
    with pytest.raises(DarajaRejected):
        await push(client)
    assert (
        sample("daraja_call_duration_seconds_count", {"operation": "stk_push", "outcome": "ok"})
        == ok_before + 1
    )
    assert (
        sample("daraja_errors_total", {"operation": "stk_push", "error_code": "400.002.02"})
        == err_before + 1
    )
