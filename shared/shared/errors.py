"""One domain-error class carrying its HTTP status, the handlers that render every error as
``{"error": "<Name>", "detail": "<message>"}``, and the OpenAPI entries that document them."""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str
    detail: str


class FieldError(BaseModel):
    field: str = Field(
        description="Where: `body.<name>`, `query.<name>`, `path.<name>` or `header.<name>`."
    )
    message: str


class ValidationErrorBody(ErrorBody):
    """The body of a 422: the request does not have the documented shape."""

    error: str = Field(description="`RequestValidationError`.")
    fields: list[FieldError] = Field(description="Each field that was refused, and why.")


MALFORMED_JSON = "MalformedJSON"


class DomainError(Exception):
    """An expected failure. Subclasses set ``status_code``; the message says what is wrong and
    what is accepted."""

    status_code: ClassVar[int] = 400

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers

    @classmethod
    def response_doc(cls, description: str | None = None) -> dict[int | str, dict[str, Any]]:
        """An entry for an endpoint's ``responses=``."""
        return {
            cls.status_code: {
                "model": ErrorBody,
                "description": description or (cls.__doc__ or cls.__name__).strip(),
            }
        }


def responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """Merge error docs for ``responses=``; errors sharing a status are listed together."""
    merged: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        for status, doc in error.response_doc().items():
            if status in merged:
                merged[status]["description"] += f" | {doc['description']}"
            else:
                merged[status] = dict(doc)
    return merged


class NotFound(DomainError):
    """The resource does not exist or is not yours."""

    status_code = 404


class Conflict(DomainError):
    """The request conflicts with the resource's current state."""

    status_code = 409


class Unauthorized(DomainError):
    """Missing or invalid credentials."""

    status_code = 401

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, headers=headers or {"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    """Authenticated but not allowed."""

    status_code = 403


class ServiceUnavailable(DomainError):
    """A dependency is down; try again later."""

    status_code = 503


def _message(error: Any) -> str:
    # Pydantic prefixes the text of a ValueError raised by a validator; the text says it all.
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {_message(error)}")
    return "; ".join(parts) or "invalid request"


async def _domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(
        status_code=exc.status_code,
        content={"error": type(exc).__name__, "detail": exc.message},
        headers=exc.headers,
    )


def _malformed_json(detail: str) -> JSONResponse:
    return JSONResponse(status_code=400, content={"error": MALFORMED_JSON, "detail": detail})


async def _validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # A body that is not JSON at all has no shape to validate: that is a 400, not a 422.
    unparseable = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
    if unparseable is not None:
        reason = (unparseable.get("ctx") or {}).get("error", "JSON decode error")
        position = unparseable.get("loc", ("body", "?"))[-1]
        return _malformed_json(
            f"the request body is not valid JSON ({reason} at character {position}); "
            "send a JSON object with Content-Type: application/json"
        )
    fields = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": _message(e)}
        for e in exc.errors()
    ]
    return JSONResponse(
        status_code=422,
        content={
            "error": "RequestValidationError",
            "detail": _describe_validation(exc),
            "fields": fields,
        },
    )


async def _http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's answer to a JSON body it could not decode: bytes that are not UTF-8, or
        # nesting deeper than the parser goes.
        return _malformed_json(
            "the request body could not be read as JSON (it is not UTF-8, or nested too deeply)"
        )
    names = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed"}
    return JSONResponse(
        status_code=exc.status_code,
        content={"error": names.get(exc.status_code, "HTTPError"), "detail": str(exc.detail)},
        headers=exc.headers,
    )


async def _unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path)
    return JSONResponse(
        status_code=500,
        content={"error": "InternalServerError", "detail": "An unexpected error occurred."},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(Exception, _unexpected_error_handler)


def _component(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def document_errors(openapi: dict[str, Any]) -> None:
    """Make an OpenAPI document say what the handlers above answer: every 422 has the body
    `ValidationErrorBody` (FastAPI documents its own `HTTPValidationError`, which this app never
    sends), and every operation that reads a JSON body documents the 400 for one that is not
    JSON."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    validation = _component(ValidationErrorBody, components)
    error = _component(ErrorBody, components)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    shape = "The request does not have the documented shape; `fields` names each problem."
    for operation in (op for item in openapi.get("paths", {}).values() for op in item.values()):
        if not isinstance(operation, dict) or "responses" not in operation:
            continue
        responses = operation["responses"]
        if "422" in responses:
            documented = responses["422"]
            schema = documented.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref", "").endswith("/HTTPValidationError"):
                responses["422"] = {"description": shape, "content": _json(validation)}
            else:
                # A domain error that is also a 422 (sent as an ErrorBody) shares the status.
                responses["422"] = {
                    "description": f"{shape} | {documented.get('description', '')}",
                    "content": _json({"anyOf": [validation, error]}),
                }
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            malformed = f"`{MALFORMED_JSON}`: the request body is not JSON."
            if "400" in responses:
                responses["400"]["description"] += f" | {malformed}"
            else:
                responses["400"] = {"description": malformed, "content": _json(error)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}
