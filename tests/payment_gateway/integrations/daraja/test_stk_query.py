import base64
import json
from collections.abc import Callable

import httpx
import pytest
import respx
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from payment_gateway.integrations.daraja import (
    DarajaClient,
    DarajaConfig,
    DarajaRateLimited,
    DarajaRejected,
    DarajaUnavailable,
    StkQueryResult,
)
from payment_gateway.integrations.daraja import client as client_module
from tests.payment_gateway.integrations.daraja.answers import invalid_token

QUERY = "/mpesa/stkpushquery/v1/query"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
CHECKOUT = "ws_CO_13012021093521236557"
SUCCESS = {
    "ResponseCode": "0",
    "ResponseDescription": "The service request has been accepted successfully",
    "MerchantRequestID": "22205-34066-1",
    "CheckoutRequestID": CHECKOUT,
    "ResultCode": "0",
    "ResultDesc": "The service request is processed successfully.",
}
BEING_PROCESSED = {
    "requestId": "ws_CO_20022018230142206",
    "errorCode": "500.001.1001",
    "errorMessage": "The transaction is being processed",
}


async def test_sends_the_exact_wire_body_and_reads_a_final_answer(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    route = daraja_mock.post(QUERY).respond(json=SUCCESS)

    result = await client.stk_query(CHECKOUT)

    assert result == StkQueryResult(
        result_code="0",
        result_desc="The service request is processed successfully.",
        pending=False,
        merchant_request_id="22205-34066-1",
        checkout_request_id=CHECKOUT,
        raw=SUCCESS,
    )
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer tok-1"
    body = json.loads(request.content)
    assert body == {
        "BusinessShortCode": "174379",
        "Password": base64.b64encode(
            f"174379{SANDBOX_PASSKEY}{body['Timestamp']}".encode()
        ).decode(),
        "Timestamp": body["Timestamp"],
        "CheckoutRequestID": CHECKOUT,
    }


@pytest.mark.parametrize(
    ("code", "desc", "expected"),
    [
        ("1032", "[STK_CB - ]Request cancelled by user", "1032"),
        (1032, "Request cancelled by user", "1032"),
        (0, "The service request is processed successfully.", "0"),
        ("E3008", "Error, the user has a bad debt contract.", "E3008"),
        (" 1037 ", "DS timeout user cannot be reached", "1037"),
    ],
)
async def test_final_codes_are_strings_whatever_daraja_sent(
    client: DarajaClient,
    daraja_mock: respx.MockRouter,
    token_route: respx.Route,
    code: object,
    desc: str,
    expected: str,
) -> None:
    daraja_mock.post(QUERY).respond(json={**SUCCESS, "ResultCode": code, "ResultDesc": desc})
    result = await client.stk_query(CHECKOUT)
    assert (result.result_code, result.result_desc, result.pending) == (expected, desc, False)


async def test_4999_is_pending_not_a_failure(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    daraja_mock.post(QUERY).respond(
        json={
            **SUCCESS,
            "ResultCode": "4999",
            "ResultDesc": "The transaction is still under processing",
        }
    )
    result = await client.stk_query(CHECKOUT)
    assert result.pending is True
    assert result.result_code is None
    assert result.result_desc == "The transaction is still under processing"


@pytest.mark.parametrize("status", [500, 200])
async def test_being_processed_envelope_is_pending_not_an_error(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route, status: int
) -> None:
    pending_before = (
        REGISTRY.get_sample_value(
            "daraja_call_duration_seconds_count", {"operation": "stk_query", "outcome": "pending"}
        )
        or 0
    )
    route = daraja_mock.post(QUERY).respond(status, json=BEING_PROCESSED)

    result = await client.stk_query(CHECKOUT)

    assert result.pending is True and result.result_code is None
    assert result.result_desc == "The transaction is being processed"
    assert result.raw == BEING_PROCESSED
    assert route.call_count == 1, "a pending answer is an answer: no retry"
    assert (
        REGISTRY.get_sample_value(
            "daraja_call_duration_seconds_count", {"operation": "stk_query", "outcome": "pending"}
        )
        == pending_before + 1
    )


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503, html="<html><body>503 Service Unavailable</body></html>"),
        httpx.Response(
            500,
            text="<soapenv:Envelope><soapenv:Body><soapenv:Fault>"
            "<faultstring>Internal</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>",
        ),
        httpx.Response(502),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.Response(
            500,
            json={
                "requestId": "r",
                "errorCode": "500.003.1001",
                "errorMessage": "Internal Server Error",
            },
        ),
        httpx.Response(200, json={"ResponseCode": "0"}),
    ],
)
async def test_transient_failures_are_retried_then_answered(
    client: DarajaClient,
    daraja_mock: respx.MockRouter,
    token_route: respx.Route,
    failure: httpx.Response | Exception,
) -> None:
    route = daraja_mock.post(QUERY).mock(
        side_effect=[failure, failure, httpx.Response(200, json=SUCCESS)]
    )
    result = await client.stk_query(CHECKOUT)
    assert result.result_code == "0"
    assert route.call_count == 3


async def test_gives_up_after_query_max_retries_with_backoff(
    client: DarajaClient,
    daraja_mock: respx.MockRouter,
    token_route: respx.Route,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[tuple[int, float, float]] = []

    def record(attempt: int, *, base_s: float, cap_s: float) -> float:
        attempts.append((attempt, base_s, cap_s))
        return 0.0

    monkeypatch.setattr(client_module, "backoff_seconds", record)
    route = daraja_mock.post(QUERY).respond(503, text="")

    with pytest.raises(DarajaUnavailable) as raised:
        await client.stk_query(CHECKOUT)

    assert route.call_count == 3  # the first try and query_max_retries=2 retries
    assert attempts == [(1, 0.001, 0.005), (2, 0.001, 0.005)]
    assert raised.value.http_status == 503


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            400,
            {
                "requestId": "r",
                "errorCode": "400.002.02",
                "errorMessage": "Bad Request - Invalid CheckoutRequestID",
            },
            DarajaRejected,
        ),
        (
            500,
            {
                "requestId": "r",
                "errorCode": "500.003.02",
                "errorMessage": "Error Occurred: Spike Arrest Violation",
            },
            DarajaRateLimited,
        ),
        (
            500,
            {"requestId": "r", "errorCode": "500.001.1001", "errorMessage": "Wrong credentials"},
            DarajaRejected,
        ),
    ],
)
async def test_rejections_and_throttling_are_not_retried_by_the_client(
    client: DarajaClient,
    daraja_mock: respx.MockRouter,
    token_route: respx.Route,
    status: int,
    body: dict[str, str],
    error: type[Exception],
) -> None:
    route = daraja_mock.post(QUERY).respond(status, json=body)
    with pytest.raises(error):
        await client.stk_query(CHECKOUT)
    assert route.call_count == 1


async def test_an_invalid_token_is_refreshed_once(
    client: DarajaClient, daraja_mock: respx.MockRouter, fresh_token: respx.Route
) -> None:
    route = daraja_mock.post(QUERY).mock(
        side_effect=[
            invalid_token(404, "404.001.03"),
            httpx.Response(200, json=SUCCESS),
        ]
    )
    assert (await client.stk_query(CHECKOUT)).result_code == "0"
    assert fresh_token.call_count == 1
    assert route.calls.last.request.headers["authorization"] == "Bearer fresh"


async def test_the_shared_limiter_refuses_before_calling_daraja(
    redis_client: Redis,
    daraja_mock: respx.MockRouter,
    token_route: respx.Route,
    make_config: Callable[..., DarajaConfig],
) -> None:
    route = daraja_mock.post(QUERY).respond(json=SUCCESS)
    config = make_config(query_rate_per_second=0.5, query_rate_max_wait_s=0)
    async with DarajaClient(config, redis=redis_client) as daraja:
        await daraja.stk_query(CHECKOUT)
        with pytest.raises(DarajaRateLimited) as raised:
            await daraja.stk_query(CHECKOUT)
    assert raised.value.kind == "local"
    assert 1.5 < raised.value.retry_after_s <= 2
    assert route.call_count == 1
