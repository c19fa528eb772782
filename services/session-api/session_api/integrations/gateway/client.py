"""The payment gateway's REST API: create a payment (with an idempotency key) and read one back;
the staff console's reads (facts, timelines, stats) and staff actions (review a held payment,
refund a completed one), which name the acting staff member in `X-Acting-User` so the gateway's
records say who looked or acted; and erase a payer's personal data from their payments."""

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
    GatewayPaymentFacts,
    GatewayRefund,
    ReadinessChecklist,
)
from shared.audit.schemas import VerifyReport
from shared.http import KEEPALIVE_EXPIRY_S

log = structlog.get_logger(__name__)

M = TypeVar("M", bound=BaseModel)

# The gateway's names for "this idempotency key already belongs to a request": one still running
# (409) or an earlier one with another body (422).
IDEMPOTENCY_ERRORS = frozenset({"IdempotencyKeyInUse", "IdempotencyKeyReused"})
ACTING_USER = "X-Acting-User"
# A phone searched in the staff console matches at most this many of its newest payments.
PHONE_LOOKUP_LIMIT = 500


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

    async def review_payment(
        self, payment_id: str, *, decision: str, note: str, acting_user: str
    ) -> GatewayPayment:
        """Accept or reject a payment held for review, as `acting_user` (`user:<id>`)."""
        response = await self._send(
            "POST",
            f"/v1/payments/{payment_id}/review",
            json={"decision": decision, "note": note},
            headers={ACTING_USER: acting_user},
        )
        return self._payment(response)

    async def refund_payment(
        self, payment_id: str, *, reason: str, acting_user: str
    ) -> tuple[GatewayRefund, bool]:
        """Refund a completed payment through M-Pesa Reversal; True if this call asked for it
        (asking again returns the refund there is; nothing is sent to M-Pesa twice)."""
        response = await self._send(
            "POST",
            f"/v1/payments/{payment_id}/refund",
            json={"reason": reason},
            headers={ACTING_USER: acting_user},
        )
        try:
            return GatewayRefund.model_validate_json(response.content), response.status_code == 202
        except ValidationError as e:
            log.error("gateway_unreadable_refund", status=response.status_code, error=str(e))
            raise GatewayUnavailable("the payment gateway answered with an unreadable body") from e

    async def verify_audit(self) -> VerifyReport:
        """The gateway's audit chain recomputed and its checkpoints checked, by the gateway."""
        response = await self._send("GET", "/v1/audit/verify")
        try:
            return VerifyReport.model_validate_json(response.content)
        except ValidationError as e:
            raise GatewayUnavailable("the payment gateway answered with an unreadable body") from e

    async def erase_payments(self, payment_ids: list[str], *, redact: list[str]) -> dict[str, Any]:
        """Have the gateway replace these payments' phone by its keyed hash and blank `redact`
        (the payer's name and e-mail address) wherever it stored them; safe to repeat."""
        response = await self._send(
            "POST", "/v1/erasures", json={"payment_ids": payment_ids, "redact": redact}
        )
        counts: dict[str, Any] = response.json()
        return counts

    async def payment_facts(
        self, payment_ids: list[str], *, acting_user: str
    ) -> list[GatewayPaymentFacts]:
        """What only the gateway knows about these payments (unknown ids are left out)."""
        if not payment_ids:
            return []
        response = await self._send(
            "POST",
            "/v1/console/payments/facts",
            json={"ids": payment_ids},
            headers={ACTING_USER: acting_user},
        )
        try:
            return [GatewayPaymentFacts.model_validate(item) for item in response.json()]
        except (ValidationError, ValueError, TypeError) as e:
            raise GatewayUnavailable("the payment gateway answered with unreadable facts") from e

    async def payment_ids_for_phone(
        self, phone: str, *, acting_user: str, limit: int = PHONE_LOOKUP_LIMIT
    ) -> list[str]:
        """The ids of the gateway's payments from this phone (254XXXXXXXXX), newest first, at
        most `limit` of them."""
        ids: list[str] = []
        cursor: str | None = None
        while len(ids) < limit:
            params = {"phone": phone, "limit": str(min(100, limit - len(ids)))}
            if cursor:
                params["cursor"] = cursor
            body = _json_object(
                await self._send(
                    "GET", "/v1/payments", params=params, headers={ACTING_USER: acting_user}
                )
            )
            ids += [str(item["id"]) for item in body.get("items", []) if "id" in item]
            cursor = body.get("next_cursor")
            if not cursor:
                break
        return ids

    async def payment_timeline(self, payment_id: str, *, acting_user: str) -> dict[str, Any]:
        """The payment and its merged timeline, as the gateway's console endpoint shapes it."""
        response = await self._send(
            "GET",
            f"/v1/console/payments/{payment_id}/timeline",
            headers={ACTING_USER: acting_user},
        )
        return _json_object(response)

    async def payment_stats(self, params: dict[str, str], *, acting_user: str) -> dict[str, Any]:
        response = await self._send(
            "GET", "/v1/console/stats", params=params, headers={ACTING_USER: acting_user}
        )
        return _json_object(response)

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


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as e:
        raise GatewayUnavailable("the payment gateway answered with an unreadable body") from e
    if not isinstance(body, dict):
        raise GatewayUnavailable("the payment gateway answered with an unexpected body")
    return body


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
