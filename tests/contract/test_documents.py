"""Both OpenAPI documents state the limits that keep bad input away from the database: every
request body refuses unknown fields, every query parameter is bounded, every error body is the
one sent. A new endpoint that forgets the shared building blocks fails here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from payment_gateway.config import Settings as GatewaySettings
from payment_gateway.main import create_app as create_gateway
from session_api.config import Settings as SessionSettings
from session_api.main import create_app as create_session_api

DOCUMENTS = {
    "payment-gateway": lambda: create_gateway(GatewaySettings(ENVIRONMENT="development")).openapi(),
    "session-api": lambda: create_session_api(SessionSettings(ENVIRONMENT="development")).openapi(),
}


@pytest.fixture(scope="module", params=list(DOCUMENTS))
def openapi(request: pytest.FixtureRequest) -> dict[str, Any]:
    document: dict[str, Any] = DOCUMENTS[request.param]()
    return document


def operations(openapi: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = openapi["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return resolved


def models_in(openapi: dict[str, Any], schema: dict[str, Any], seen: set[str]) -> Iterator[str]:
    """Names of the component models a request body schema uses, nested ones included."""
    ref = schema.get("$ref")
    if ref is not None:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
        yield name
        schema = resolve(openapi, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from models_in(openapi, option, seen)
    if "items" in schema:
        yield from models_in(openapi, schema["items"], seen)
    for child in schema.get("properties", {}).values():
        yield from models_in(openapi, child, seen)


def test_every_request_body_refuses_unknown_fields(openapi: dict[str, Any]) -> None:
    lenient = []
    for label, operation in operations(openapi):
        content = operation.get("requestBody", {}).get("content", {})
        for media in content.values():
            for name in models_in(openapi, media["schema"], set()):
                model = openapi["components"]["schemas"][name]
                if model.get("type") == "object" and model.get("additionalProperties") is not False:
                    lenient.append(f"{label}: {name}")
    assert lenient == []


def _unbounded(parameter: dict[str, Any], openapi: dict[str, Any]) -> str | None:
    schema = parameter["schema"]
    options = schema.get("anyOf", [schema])
    for option in (resolve(openapi, o) for o in options):
        kind = option.get("type")
        if kind == "array":
            option = resolve(openapi, option["items"])
            kind = option.get("type")
        if kind == "integer" and not {"minimum", "maximum"} <= set(option):
            return "an integer without both minimum and maximum"
        if kind == "string" and "enum" not in option:
            if option.get("format") == "date-time":
                if "Years" not in (option.get("description") or ""):
                    return "a date-time without the supported years"
            elif option.get("format") != "uuid" and not {"maxLength", "pattern"} <= set(option):
                return "a string without maxLength and a pattern refusing control characters"
    return None


def test_every_query_parameter_is_bounded(openapi: dict[str, Any]) -> None:
    unbounded = [
        f"{label} {parameter['name']}: {problem}"
        for label, operation in operations(openapi)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and (problem := _unbounded(parameter, openapi)) is not None
    ]
    assert unbounded == []


def test_every_422_is_the_body_the_handler_sends(openapi: dict[str, Any]) -> None:
    validation = {"$ref": "#/components/schemas/ValidationErrorBody"}
    wrong = []
    for label, operation in operations(openapi):
        documented = operation["responses"].get("422")
        if documented is None:
            continue
        schema = documented["content"]["application/json"]["schema"]
        if schema != validation and validation not in schema.get("anyOf", []):
            wrong.append(label)
    assert wrong == []
    assert "HTTPValidationError" not in openapi["components"]["schemas"]


def test_every_json_body_documents_the_400_for_one_that_is_not_json(
    openapi: dict[str, Any],
) -> None:
    missing = [
        label
        for label, operation in operations(openapi)
        if "application/json" in operation.get("requestBody", {}).get("content", {})
        and "MalformedJSON" not in operation["responses"].get("400", {}).get("description", "")
    ]
    assert missing == []
