"""One domain-error class carrying its HTTP status, and the handlers that render every error as
``{"error": "<Name>", "detail": "<message>"}``."""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str
    detail: str


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


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(
        status_code=exc.status_code,
        content={"error": type(exc).__name__, "detail": exc.message},
        headers=exc.headers,
    )


async def _validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
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
