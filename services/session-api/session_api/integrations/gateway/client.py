"""The payment gateway's REST API: create a payment (with an idempotency key) and read one back."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import structlog
from pydantic import BaseModel, ValidationError

from session_api.integrations.gateway.exceptions import (
    GatewayAuthError,
    GatewayIdempotencyConflict,
    GatewayRejected,
    GatewayUnavailable,
)
from session_api.integrations.gateway.schemas import (
    ActiveEnvironment,
    ConnectionTestResult,
    CreatePaymentRequest,
    DarajaCredentialsView,
    DarajaSettingsView,
    GatewayPayment,
    ReadinessChecklist,
)
from shared.http import KEEPALIVE_EXPIRY_S

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=BaseModel)

# The gateway's names for "this idempotency key already belongs to a request": one still running
# (409) or an earlier one with another body (422).
IDEMPOTENCY_ERRORS = frozenset({"IdempotencyKeyInUse", "IdempotencyKeyReused"})


class GatewayClient:
    """One per process, around one `httpx.AsyncClient` with explicit timeouts.

    Nothing here retries: a create is retried by the caller with the same idempotency key, so the
    gateway answers a repeat with the payment it already made instead of making a second one.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout_s: float,
        connect_timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # A settings call waits for Daraja too (a token, an STK Query): twice the usual budget.
        self._settings_timeout = httpx.Timeout(2 * timeout_s, connect=connect_timeout_s)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def create_payment(
        self, request: CreatePaymentRequest, *, idempotency_key: str, request_id: str | None = None
    ) -> GatewayPayment:
        headers = {"Idempotency-Key": idempotency_key}
        if request_id:
            headers["X-Request-ID"] = request_id
        response = await self._send(
            "POST", "/v1/payments", json=request.model_dump(mode="json"), headers=headers
        )
        return self._payment(response)

    async def get_payment(self, payment_id: str) -> GatewayPayment:
        response = await self._send("GET", f"/v1/payments/{payment_id}")
        return self._payment(response)

    async def daraja_settings(self) -> DarajaSettingsView:
        response = await self._send("GET", "/v1/settings/daraja")
        return self._read(DarajaSettingsView, response)

    async def save_daraja_credentials(
        self, environment: str, credentials: dict[str, Any], *, actor: str
    ) -> DarajaCredentialsView:
        """Saved by the gateway only once Daraja issued a token for them."""
        response = await self._send(
            "PUT",
            f"/v1/settings/daraja/{environment}",
            json={**credentials, "actor": actor},
            # Fetching a token from Daraja is part of the request.
            timeout=self._settings_timeout,
        )
        return self._read(DarajaCredentialsView, response)

    async def test_daraja_credentials(
        self, environment: str, *, actor: str
    ) -> ConnectionTestResult:
        response = await self._send(
            "POST",
            f"/v1/settings/daraja/{environment}/test",
            json={"actor": actor},
            timeout=self._settings_timeout,
        )
        return self._read(ConnectionTestResult, response)

    async def readiness(self) -> ReadinessChecklist:
        return self._read(ReadinessChecklist, await self._send("GET", "/v1/settings/readiness"))

    async def environment(self) -> ActiveEnvironment:
        return self._read(ActiveEnvironment, await self._send("GET", "/v1/settings/environment"))

    async def switch_environment(self, environment: str, *, actor: str) -> ActiveEnvironment:
        response = await self._send(
            "POST", "/v1/settings/environment", json={"environment": environment, "actor": actor}
        )
        return self._read(ActiveEnvironment, response)

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as e:
            raise GatewayUnavailable(f"the payment gateway did not answer in time ({e!r})") from e
        except httpx.TransportError as e:
            raise GatewayUnavailable(f"the payment gateway is unreachable ({e!r})") from e
        if response.is_success:
            return response
        error, detail = _error_fields(response)
        status = response.status_code
        fields: dict[str, Any] = {"http_status": status, "error": error, "detail": detail}
        if status in (401, 403):
            raise GatewayAuthError(
                f"the payment gateway refused our service key: {detail}", **fields
            )
        if status == 429 or status >= 500:
            raise GatewayUnavailable(
                f"the payment gateway answered {status}: {detail}",
                retry_after_s=_retry_after(response),
                **fields,
            )
        if error in IDEMPOTENCY_ERRORS:
            raise GatewayIdempotencyConflict(detail, **fields)
        raise GatewayRejected(detail, retry_after_s=_retry_after(response), **fields)

    @staticmethod
    def _read(model: type[M], response: httpx.Response) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as e:
            log.error("gateway_unreadable_body", status=response.status_code, error=str(e))
            raise GatewayUnavailable("the payment gateway answered with an unreadable body") from e

    @staticmethod
    def _payment(response: httpx.Response) -> GatewayPayment:
        try:
            return GatewayPayment.model_validate_json(response.content)
        except ValidationError as e:
            # A 2xx we cannot read is the gateway misbehaving; the caller treats it as an outage
            # and the idempotency key makes the retry safe.
            log.error("gateway_unreadable_payment", status=response.status_code, error=str(e))
            raise GatewayUnavailable("the payment gateway answered with an unreadable body") from e


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "HTTPError", response.text[:200] or response.reason_phrase
    if not isinstance(body, dict):
        return "HTTPError", str(body)[:200]
    return str(body.get("error") or "HTTPError"), str(body.get("detail") or response.reason_phrase)


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else None
