"""One HTTP exchange with Daraja: send it, read the answer as a JSON object or classify it as a
`DarajaError`, and record its latency, errors and a log line."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from payment_gateway.integrations.daraja.errors import (
    BackoffHints,
    DarajaError,
    DarajaUnavailable,
    classify,
    envelope_of,
    parse_json_object,
)
from payment_gateway.integrations.daraja.metrics import DARAJA_CALL_LATENCY, DARAJA_ERRORS

log = structlog.get_logger("payment_gateway.daraja")

# Connection-level failures happen before a request leaves this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True)
class Call:
    operation: str  # names the call in metrics and logs: stk_push, stk_query, oauth, ...
    method: str
    url: str
    oauth: bool = False  # OAuth's refusals read differently (a bare 400 means bad credentials)
    pending_ok: bool = False  # STK Query's "being processed" envelope is an answer, not an error


async def exchange(
    http: httpx.AsyncClient,
    call: Call,
    *,
    hints: BackoffHints,
    json: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | None = None,
) -> dict[str, Any]:
    """The JSON object of a success (or of a pending query answer when ``pending_ok``), else
    the classified error."""
    started = time.perf_counter()
    http_status: int | None = None
    try:
        try:
            response = await http.request(
                call.method,
                call.url,
                json=json,
                params=params,
                headers=headers,
                auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as e:
            raise DarajaUnavailable(
                f"{call.operation}: {type(e).__name__} talking to Daraja: {e}",
                maybe_processed=not isinstance(e, _NOT_SENT),
            ) from e
        http_status = response.status_code
        payload = parse_json_object(response.text)
        envelope = envelope_of(payload)
        if call.pending_ok and payload is not None and envelope and envelope.is_query_pending:
            _observe(call.operation, "pending", started, http_status, envelope.request_id)
            return payload
        if (
            response.is_success
            and payload is not None
            and (envelope is None or envelope.error_code is None)
        ):
            _observe(call.operation, "ok", started, http_status, None)
            return payload
        raise classify(
            http_status=http_status,
            text=response.text,
            retry_after_header=response.headers.get("retry-after"),
            oauth=call.oauth,
            hints=hints,
        )
    except DarajaError as e:
        if e.http_status is None:
            e.http_status = http_status
        outcome = type(e).__name__
        DARAJA_ERRORS.labels(call.operation, e.error_code or outcome).inc()
        _observe(call.operation, outcome, started, e.http_status, e.request_id, error=e)
        raise


def _observe(
    operation: str,
    outcome: str,
    started: float,
    http_status: int | None,
    request_id: str | None,
    *,
    error: DarajaError | None = None,
) -> None:
    elapsed = time.perf_counter() - started
    DARAJA_CALL_LATENCY.labels(operation, outcome).observe(elapsed)
    fields: dict[str, Any] = {
        "operation": operation,
        "outcome": outcome,
        "http_status": http_status,
        "duration_ms": round(elapsed * 1000, 1),
    }
    if request_id:
        fields["daraja_request_id"] = request_id
    if error is None:
        log.info("daraja_call", **fields)
    else:
        log.warning(
            "daraja_call",
            **fields,
            error_code=error.error_code,
            error=error.message,
            retryable=error.retryable,
        )
