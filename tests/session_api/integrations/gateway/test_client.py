import json

import httpx
import pytest
import respx

from session_api.integrations.gateway import (
    CreatePaymentRequest,
    GatewayAuthError,
    GatewayClient,
    GatewayIdempotencyConflict,
    GatewayPaymentStatus,
    GatewayRejected,
    GatewayUnavailable,
)

BASE = "http://gateway.test"
PAYMENT = {
    "id": "9b2e0d1c-6a0f-4f5e-9a39-2b8a4c1e7d10",
    "status": "sent",
    "amount": 1500,
    "phone": "254*****5678",
    "account_reference": "BK-1042",
    "description": "Session",
    "metadata": {"attempt_number": 1},
    "environment": "sandbox",
    "checkout_request_id": "ws_CO_22112026101502123712345678",
    "merchant_request_id": "2654-4b64",
    "result_code": None,
    "result_desc": None,
    "receipt_number": None,
    "reason": None,
    "customer_message": "Check your phone and enter your M-Pesa PIN",
    "review_reason": None,
    "sequence": 1,
    "created_at": "2026-11-22T07:15:01.912Z",
    "updated_at": "2026-11-22T07:15:01.912Z",
}
REQUEST = CreatePaymentRequest(
    amount=1500,
    phone="254712345678",
    account_reference="BK-1042",
    description="Session",
    metadata={"attempt_number": 1},
)


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(base_url=BASE, assert_all_called=False)


@pytest.fixture
async def client(router: respx.MockRouter) -> GatewayClient:
    return GatewayClient(
        base_url=BASE,
        api_key="service-key",
        timeout_s=2,
        connect_timeout_s=1,
        transport=httpx.MockTransport(router.async_handler),
    )


class TestCreatePayment:
    async def test_sends_the_key_the_body_and_reads_the_payment(
        self, router: respx.MockRouter, client: GatewayClient
    ) -> None:
        route = router.post("/v1/payments").respond(201, json=PAYMENT)

        payment = await client.create_payment(REQUEST, idempotency_key="k-1", request_id="req-9")

        sent = route.calls.last.request
        assert sent.headers["Authorization"] == "Bearer service-key"
        assert sent.headers["Idempotency-Key"] == "k-1"
        assert sent.headers["X-Request-ID"] == "req-9"
        assert json.loads(sent.content) == REQUEST.model_dump()
        assert payment.status is GatewayPaymentStatus.sent
        assert payment.sequence == 1
        assert payment.checkout_request_id == PAYMENT["checkout_request_id"]

    @pytest.mark.parametrize(
        ("response", "error", "retry_after"),
        [
            (httpx.Response(503, text="<html>down</html>"), GatewayUnavailable, None),
            (
                httpx.Response(
                    429, headers={"Retry-After": "12"}, json={"error": "X", "detail": "y"}
                ),
                GatewayUnavailable,
                12,
            ),
            (
                httpx.Response(401, json={"error": "Unauthorized", "detail": "key"}),
                GatewayAuthError,
                None,
            ),
            (
                httpx.Response(
                    409,
                    headers={"Retry-After": "3"},
                    json={"error": "IdempotencyKeyInUse", "detail": "busy"},
                ),
                GatewayIdempotencyConflict,
                None,
            ),
            (
                httpx.Response(422, json={"error": "IdempotencyKeyReused", "detail": "other body"}),
                GatewayIdempotencyConflict,
                None,
            ),
            (
                httpx.Response(
                    409,
                    headers={"Retry-After": "95"},
                    json={"error": "DuplicatePayment", "detail": "2 min"},
                ),
                GatewayRejected,
                95,
            ),
            (
                httpx.Response(
                    422, json={"error": "RequestValidationError", "detail": "phone: bad"}
                ),
                GatewayRejected,
                None,
            ),
            (httpx.Response(201, json={"unexpected": True}), GatewayUnavailable, None),
        ],
        ids=["5xx", "429", "401", "key in use", "key reused", "duplicate", "invalid", "unreadable"],
    )
    async def test_maps_each_failure_to_one_error(
        self,
        router: respx.MockRouter,
        client: GatewayClient,
        response: httpx.Response,
        error: type[Exception],
        retry_after: int | None,
    ) -> None:
        router.post("/v1/payments").mock(return_value=response)

        with pytest.raises(error) as raised:
            await client.create_payment(REQUEST, idempotency_key="k-1")

        assert type(raised.value) is error
        assert getattr(raised.value, "retry_after_s", None) == retry_after

    @pytest.mark.parametrize(
        "failure",
        [
            httpx.ConnectError("refused"),
            httpx.ReadTimeout("slow"),
            httpx.RemoteProtocolError("cut"),
        ],
    )
    async def test_transport_failures_are_unavailable(
        self, router: respx.MockRouter, client: GatewayClient, failure: Exception
    ) -> None:
        router.post("/v1/payments").mock(side_effect=failure)

        with pytest.raises(GatewayUnavailable):
            await client.create_payment(REQUEST, idempotency_key="k-1")

    async def test_a_rejection_carries_the_gateways_words(
        self, router: respx.MockRouter, client: GatewayClient
    ) -> None:
        router.post("/v1/payments").respond(
            422, json={"error": "AmountOutOfRange", "detail": "amount: 1 to 250000"}
        )

        with pytest.raises(GatewayRejected) as raised:
            await client.create_payment(REQUEST, idempotency_key="k-1")

        assert (raised.value.http_status, raised.value.error) == (422, "AmountOutOfRange")
        assert raised.value.detail == "amount: 1 to 250000"


class TestGetPayment:
    async def test_reads_one_payment(self, router: respx.MockRouter, client: GatewayClient) -> None:
        router.get(f"/v1/payments/{PAYMENT['id']}").respond(
            200,
            json={
                **PAYMENT,
                "status": "completed",
                "receipt_number": "UKM1AB2CD3",
                "result_code": 0,
            },
        )

        payment = await client.get_payment(str(PAYMENT["id"]))

        assert payment.status is GatewayPaymentStatus.completed
        assert payment.receipt_number == "UKM1AB2CD3"
        assert payment.result_code == "0"
