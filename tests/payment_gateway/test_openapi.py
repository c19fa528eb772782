"""The OpenAPI document lists every error each route can answer."""

from __future__ import annotations

from typing import Any

import pytest

from payment_gateway.config import Settings
from payment_gateway.main import create_app

EXPECTED: dict[tuple[str, str], set[str]] = {
    ("post", "/v1/payments"): {"201", "401", "409", "422"},
    ("get", "/v1/payments"): {"200", "400", "401", "422"},
    ("get", "/v1/payments/{payment_id}"): {"200", "401", "404"},
    ("get", "/v1/payments/{payment_id}/events"): {"200", "401", "404"},
    ("post", "/v1/payments/{payment_id}/refresh"): {"200", "401", "404", "429", "503"},
    ("post", "/v1/callbacks/stk/{token}"): {"200", "403", "404", "413"},
}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    schema: dict[str, Any] = create_app(Settings(ENVIRONMENT="development")).openapi()
    return schema


@pytest.mark.parametrize(("method", "path"), list(EXPECTED))
def test_every_error_is_documented(openapi: dict[str, Any], method: str, path: str) -> None:
    operation = openapi["paths"][path][method]
    assert EXPECTED[(method, path)] <= set(operation["responses"])
    assert operation["description"] or operation["summary"]


def test_payment_errors_are_named_in_the_descriptions(openapi: dict[str, Any]) -> None:
    responses = openapi["paths"]["/v1/payments"]["post"]["responses"]
    assert "Idempotency-Key" in responses["409"]["description"]
    assert "open payment" in responses["409"]["description"]
    assert "2-minute" in responses["409"]["description"]
    assert "different request body" in responses["422"]["description"]


def test_service_routes_declare_bearer_auth(openapi: dict[str, Any]) -> None:
    assert openapi["components"]["securitySchemes"]["ServiceKey"]["scheme"] == "bearer"
    assert openapi["paths"]["/v1/payments"]["post"]["security"] == [{"ServiceKey": []}]
    assert "security" not in openapi["paths"]["/v1/callbacks/stk/{token}"]["post"]


def test_payment_schema_has_the_contract_fields(openapi: dict[str, Any]) -> None:
    fields = set(openapi["components"]["schemas"]["PaymentOut"]["properties"])
    assert {
        "id",
        "status",
        "amount",
        "phone",
        "account_reference",
        "description",
        "metadata",
        "environment",
        "checkout_request_id",
        "merchant_request_id",
        "result_code",
        "result_desc",
        "receipt_number",
        "customer_message",
        "reason",
        "created_at",
        "updated_at",
    } <= fields
