"""Errors on the Daraja paths, rendered the way Daraja renders them.

Daraja answers synchronous failures with ``{"requestId", "errorCode", "errorMessage"}`` and an
HTTP status equal to the first part of the code (``404.001.03`` is a 404, ``500.001.1001`` a
500). These are not the platform's ``{"error", "detail"}`` errors: clients of the simulator
must see exactly what they would see from Safaricom.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.errors import ErrorBody

DARAJA_PATH_PREFIXES = ("/oauth/", "/mpesa/", "/pulltransactions/")


def is_daraja_path(path: str) -> bool:
    return path.startswith(DARAJA_PATH_PREFIXES)


class DarajaErrorBody(BaseModel):
    """Daraja's synchronous error envelope."""

    model_config = ConfigDict(populate_by_name=True)

    requestId: str
    errorCode: str
    errorMessage: str


class DarajaError(Exception):
    """A Daraja error envelope. Subclasses fix the code; the message may vary per instance."""

    error_code: ClassVar[str] = "500.003.1001"
    default_message: ClassVar[str] = "Internal Server Error"

    def __init__(
        self, message: str | None = None, *, request_id: str | None = None, bare: bool = False
    ) -> None:
        self.message = message or self.default_message
        self.request_id = request_id
        # Some Daraja failures are a bare status with an empty body.
        self.bare = bare
        super().__init__(self.message)

    @property
    def status_code(self) -> int:
        return int(self.error_code.split(".", 1)[0])

    @classmethod
    def doc(cls) -> dict[int | str, dict[str, Any]]:
        status = int(cls.error_code.split(".", 1)[0])
        text = f"`{cls.error_code}` {cls.default_message}"
        return {status: {"model": DarajaErrorBody, "description": text}}


class InvalidField(DarajaError):
    """A field is missing or malformed: "Bad Request - Invalid <Field>"."""

    error_code = "400.002.02"
    default_message = "Bad Request - Invalid <Field>"

    def __init__(self, field: str) -> None:
        super().__init__(f"Bad Request - Invalid {field}")
        self.field = field


class InvalidAuthenticationHeader(DarajaError):
    """No `Authorization: Bearer …` header on a business API."""

    error_code = "404.001.04"
    default_message = "Invalid Authentication Header"


class ResourceNotFound(DarajaError):
    error_code = "404.001.01"
    default_message = "Resource not found"


class MethodNotAllowed(DarajaError):
    error_code = "405.001"
    default_message = "Method Not Allowed"


class SpikeArrest(DarajaError):
    error_code = "500.003.02"
    default_message = "Error Occurred: Spike Arrest Violation"


class SystemBusy(DarajaError):
    error_code = "500.003.02"
    default_message = "System is busy. Please try again in few minutes."


class QuotaViolation(DarajaError):
    error_code = "500.003.03"
    default_message = "Quota Violation"


def daraja_responses(*errors: type[DarajaError]) -> dict[int | str, dict[str, Any]]:
    """Merge error docs for an endpoint's ``responses=``, with the faults any Daraja path may
    answer (see ``faults.py``)."""
    merged: dict[int | str, dict[str, Any]] = {
        503: {
            "content": {"text/html": {}},
            "description": "An outage fault: an HTML error page, not JSON.",
        }
    }
    faults: tuple[type[DarajaError], ...] = (SpikeArrest, SystemBusy, QuotaViolation)
    for error in (*errors, *faults):
        for status, entry in error.doc().items():
            if status in merged:
                merged[status]["description"] += f" | {entry['description']}"
            else:
                merged[status] = dict(entry)
    return merged


def error_response(exc: DarajaError, request_id: str) -> Response:
    if exc.bare:
        return Response(status_code=exc.status_code)
    body = {
        "requestId": exc.request_id or request_id,
        "errorCode": exc.error_code,
        "errorMessage": exc.message,
    }
    return JSONResponse(status_code=exc.status_code, content=body)


def install_daraja_error_handlers(app: FastAPI) -> None:
    """Render DarajaError, and 404/405 on Daraja paths, as Daraja envelopes. Anything else keeps
    the platform's ``{"error", "detail"}`` shape."""

    async def on_daraja_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DarajaError)
        return error_response(exc, request.app.state.simulator.ids.request_id())

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if is_daraja_path(request.url.path) and exc.status_code in (404, 405):
            daraja = MethodNotAllowed() if exc.status_code == 405 else ResourceNotFound()
            return error_response(daraja, request.app.state.simulator.ids.request_id())
        names = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed"}
        body = ErrorBody(error=names.get(exc.status_code, "HTTPError"), detail=str(exc.detail))
        return JSONResponse(
            status_code=exc.status_code, content=body.model_dump(), headers=exc.headers
        )

    app.add_exception_handler(DarajaError, on_daraja_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
