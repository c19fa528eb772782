"""The Daraja client: OAuth, STK Push, STK Query, Transaction Status and Pull Transactions.

One instance per process around one ``httpx.AsyncClient``. Only calls that are safe to repeat
are retried here (the token fetch and the reads: STK Query, Pull Transactions); an STK push is
sent once, and its retries belong to a job that owns the payment's state. The one repeat of any
call is after an "Invalid Access Token" answer: the call was refused before Daraja acted on it,
so it is sent again once with a fresh token.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from json import dumps
from typing import Any, TypeVar

import httpx
import structlog
from pydantic import ValidationError
from redis.asyncio import Redis

from payment_gateway.integrations.daraja.catalogue import normalise_result_code
from payment_gateway.integrations.daraja.config import DarajaConfig
from payment_gateway.integrations.daraja.errors import (
    BackoffHints,
    DarajaError,
    DarajaRejected,
    DarajaTokenInvalid,
    DarajaUnavailable,
    classify,
    envelope_of,
    parse_json_object,
)
from payment_gateway.integrations.daraja.metrics import (
    DARAJA_CALL_LATENCY,
    DARAJA_ERRORS,
    DARAJA_TOKEN_FETCHES,
)
from payment_gateway.integrations.daraja.numbers import to_decimal
from payment_gateway.integrations.daraja.ratelimit import RateLimiter
from payment_gateway.integrations.daraja.schemas import (
    PullRegistration,
    PullTransaction,
    PullTransactionsPage,
    ResultAck,
    StkPushAccepted,
    StkQueryResult,
)
from payment_gateway.integrations.daraja.timestamps import (
    NAIROBI,
    daraja_timestamp,
    parse_daraja_timestamp,
    stk_password,
)
from payment_gateway.integrations.daraja.token import FetchedToken, TokenCache, app_key
from shared.worker import backoff_seconds

log = structlog.get_logger("payment_gateway.daraja")

OAUTH_PATH = "/oauth/v1/generate"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
TRANSACTION_STATUS_PATH = "/mpesa/transactionstatus/v1/query"
PULL_TRANSACTIONS_PATH = "/pulltransactions/v1/query"
PULL_REGISTER_PATH = "/pulltransactions/v1/register"
PULL_REGISTERED = frozenset({"1000", "1001"})

PENDING_RESULT_CODE = "4999"
_PHONE = re.compile(r"^254[17]\d{8}$")
# Connection-level failures happen before a request leaves this machine.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)

T = TypeVar("T")


class DarajaClient:
    """Talks to one Daraja app; see the module docstring for what is retried and why."""

    def __init__(
        self,
        config: DarajaConfig,
        *,
        redis: Redis,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=config.connect_timeout_s,
                read=config.read_timeout_s,
                write=config.write_timeout_s,
                pool=config.pool_timeout_s,
            ),
            limits=httpx.Limits(max_connections=config.max_connections),
        )
        self._hints = BackoffHints(
            spike_arrest_s=config.spike_arrest_backoff_s,
            quota_s=config.quota_backoff_s,
            system_busy_s=config.system_busy_backoff_s,
            subscriber_busy_s=config.subscriber_busy_backoff_s,
        )
        app = app_key(config.environment, config.consumer_key)
        self.tokens = TokenCache(
            redis=redis,
            key=f"{config.redis_key_prefix}:token:{app}",
            fetch=self._fetch_token,
            refresh_margin_s=config.token_refresh_margin_s,
            lock_timeout_s=config.token_lock_timeout_s,
            poll_interval_s=config.token_poll_interval_s,
        )
        self.query_limiter = RateLimiter(
            redis=redis,
            key=f"{config.redis_key_prefix}:ratelimit:query:{app}",
            rate_per_second=config.query_rate_per_second,
            max_wait_s=config.query_rate_max_wait_s,
        )

    async def aclose(self) -> None:
        """Close the HTTP client if this client built it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> DarajaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def stk_push(
        self,
        *,
        phone: str,
        amount: int,
        account_reference: str,
        description: str,
        callback_url: str,
    ) -> StkPushAccepted:
        """Ask Daraja to prompt ``phone`` (``2547XXXXXXXX``/``2541XXXXXXXX``) for ``amount``
        whole KES. Sent once: a failure is raised for the caller's job to retry under its own
        payment state (``DarajaUnavailable.maybe_processed`` says whether the phone may ring)."""
        if not _PHONE.match(phone):
            raise ValueError(f"phone must be normalised to 2547XXXXXXXX or 2541XXXXXXXX: {phone!r}")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
            raise ValueError(f"amount must be a whole number of KES, at least 1: {amount!r}")
        timestamp = daraja_timestamp()
        body = {
            "BusinessShortCode": self.config.shortcode,
            "Password": self._password(timestamp),
            "Timestamp": timestamp,
            "TransactionType": self.config.transaction_type,
            "Amount": amount,
            "PartyA": phone,
            "PartyB": self.config.party_b,
            "PhoneNumber": phone,
            "CallBackURL": callback_url,
            "AccountReference": account_reference,
            "TransactionDesc": description,
        }
        payload = await self._authorized("stk_push", STK_PUSH_PATH, body)
        response_code = normalise_result_code(payload.get("ResponseCode"))
        if response_code not in (None, "0"):
            raise DarajaRejected(
                str(payload.get("ResponseDescription") or "STK push not accepted"),
                http_status=200,
                error_code=response_code,
                body=_dump(payload),
            )
        try:
            accepted = StkPushAccepted.model_validate({"ResponseCode": "0", **payload})
        except ValidationError as e:
            raise DarajaUnavailable(
                "STK push answered without MerchantRequestID and CheckoutRequestID",
                maybe_processed=True,
                http_status=200,
                body=_dump(payload),
            ) from e
        log.info(
            "daraja_stk_push_accepted",
            checkout_request_id=accepted.checkout_request_id,
            merchant_request_id=accepted.merchant_request_id,
            amount=amount,
        )
        return accepted

    async def stk_query(self, checkout_request_id: str) -> StkQueryResult:
        """Ask Daraja where a push stands. Passes the shared rate limiter first; connection
        failures, 5xx and non-JSON answers are retried ``query_max_retries`` times with jittered
        exponential backoff."""

        async def once() -> StkQueryResult:
            await self.query_limiter.acquire("stk_query")
            timestamp = daraja_timestamp()
            body = {
                "BusinessShortCode": self.config.shortcode,
                "Password": self._password(timestamp),
                "Timestamp": timestamp,
                "CheckoutRequestID": checkout_request_id,
            }
            payload = await self._authorized("stk_query", STK_QUERY_PATH, body, pending_ok=True)
            return _query_result(payload)

        return await self._with_retries("stk_query", once)

    async def transaction_status(
        self,
        *,
        transaction_id: str | None,
        originator_conversation_id: str | None,
        result_url: str,
        timeout_url: str,
        initiator: str,
        security_credential: str,
        remarks: str = "OK",
        occasion: str = "",
        party_a: str | None = None,
        identifier_type: str = "4",
    ) -> ResultAck:
        """Ask for a transaction's status by receipt or originator conversation id; the result
        is POSTed to ``result_url`` later. ``party_a`` defaults to the shortcode (identifier
        type 4, organisation shortcode)."""
        if not transaction_id and not originator_conversation_id:
            raise ValueError(
                "transaction_status needs transaction_id or originator_conversation_id"
            )
        body: dict[str, Any] = {
            "Initiator": initiator,
            "SecurityCredential": security_credential,
            "CommandID": "TransactionStatusQuery",
            "PartyA": party_a or self.config.shortcode,
            "IdentifierType": identifier_type,
            "ResultURL": result_url,
            "QueueTimeOutURL": timeout_url,
            "Remarks": remarks,
            "Occasion": occasion,
        }
        if transaction_id:
            body["TransactionID"] = transaction_id
        if originator_conversation_id:
            body["OriginalConversationID"] = originator_conversation_id
        payload = await self._authorized("transaction_status", TRANSACTION_STATUS_PATH, body)
        return _result_ack(payload)

    async def pull_transactions(
        self, *, start: datetime, end: datetime, offset: int = 0
    ) -> PullTransactionsPage:
        """C2B transactions on the shortcode between ``start`` and ``end`` (aware datetimes;
        Daraja keeps the last 48 hours), from row ``offset``. Retried like a query."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("pull_transactions needs aware datetimes")
        if offset < 0:
            raise ValueError("offset counts rows from 0")
        body = {
            "ShortCode": self.config.shortcode,
            "StartDate": _pull_time(start),
            "EndDate": _pull_time(end),
            "OffSetValue": str(offset),
        }

        async def once() -> PullTransactionsPage:
            payload = await self._authorized("pull_transactions", PULL_TRANSACTIONS_PATH, body)
            return _pull_page(payload)

        return await self._with_retries("pull_transactions", once)

    async def register_pull(self, *, nominated_number: str, callback_url: str) -> PullRegistration:
        """Register the shortcode for Pull Transactions (once per shortcode; registering again
        answers ``1001``, which is success too)."""
        body = {
            "ShortCode": self.config.shortcode,
            "RequestType": "Pull",
            "NominatedNumber": nominated_number,
            "CallBackURL": callback_url,
        }
        payload = await self._authorized("pull_register", PULL_REGISTER_PATH, body)
        status = normalise_result_code(payload.get("ResponseStatus"))
        if status not in PULL_REGISTERED:
            raise DarajaRejected(
                str(payload.get("ResponseDescription") or "Pull registration refused"),
                http_status=200,
                error_code=status,
                body=_dump(payload),
            )
        return PullRegistration.model_validate({**payload, "ResponseStatus": status})

    def _password(self, timestamp: str) -> str:
        return stk_password(
            self.config.shortcode, self.config.passkey.get_secret_value(), timestamp
        )

    async def _with_retries(self, operation: str, once: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await once()
            except DarajaUnavailable as e:
                if attempt > self.config.query_max_retries:
                    raise
                delay = backoff_seconds(
                    attempt,
                    base_s=self.config.query_backoff_base_s,
                    cap_s=self.config.query_backoff_cap_s,
                )
                log.info(
                    "daraja_retry",
                    operation=operation,
                    attempt=attempt,
                    delay_s=round(delay, 3),
                    error=str(e),
                )
                await asyncio.sleep(delay)

    async def _authorized(
        self, operation: str, path: str, body: dict[str, Any], *, pending_ok: bool = False
    ) -> dict[str, Any]:
        """POST with the shared token; on "Invalid Access Token" drop that token (only if it is
        still the cached one) and send once more with a fresh one."""
        token = await self.tokens.get()
        try:
            return await self._send(operation, path, body, token=token, pending_ok=pending_ok)
        except DarajaTokenInvalid:
            await self.tokens.invalidate(token)
        token = await self.tokens.get()
        try:
            return await self._send(operation, path, body, token=token, pending_ok=pending_ok)
        except DarajaTokenInvalid:
            # Dropped so the next call starts from a fresh token rather than a refused one.
            await self.tokens.invalidate(token)
            raise

    async def _send(
        self,
        operation: str,
        path: str,
        body: dict[str, Any],
        *,
        token: str,
        pending_ok: bool = False,
    ) -> dict[str, Any]:
        return await self._request(
            operation,
            "POST",
            path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            pending_ok=pending_ok,
        )

    async def _fetch_token(self) -> FetchedToken:
        try:
            payload = await self._request(
                "oauth",
                "GET",
                OAUTH_PATH,
                params={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(
                    self.config.consumer_key, self.config.consumer_secret.get_secret_value()
                ),
                oauth=True,
            )
            token = payload.get("access_token")
            expires_in = _seconds(payload.get("expires_in"))
            if not isinstance(token, str) or not token or expires_in is None:
                raise DarajaUnavailable(
                    "OAuth answered without access_token and expires_in",
                    maybe_processed=False,
                    http_status=200,
                    body=_dump({k: v for k, v in payload.items() if k != "access_token"}),
                )
        except DarajaError:
            DARAJA_TOKEN_FETCHES.labels("error").inc()
            raise
        DARAJA_TOKEN_FETCHES.labels("ok").inc()
        log.info("daraja_token_fetched", expires_in_s=expires_in)
        return FetchedToken(access_token=token, expires_in_s=expires_in)

    async def _request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
        oauth: bool = False,
        pending_ok: bool = False,
    ) -> dict[str, Any]:
        """One HTTP exchange: the JSON object of a success (or of a pending query answer when
        ``pending_ok``), else the classified error. Records latency and errors."""
        started = time.perf_counter()
        http_status: int | None = None
        try:
            try:
                response = await self._http.request(
                    method,
                    self.config.url_root + path,
                    json=json,
                    params=params,
                    headers=headers,
                    auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.HTTPError as e:
                raise DarajaUnavailable(
                    f"{operation}: {type(e).__name__} talking to Daraja: {e}",
                    maybe_processed=not isinstance(e, _NOT_SENT),
                ) from e
            http_status = response.status_code
            text = response.text
            payload = parse_json_object(text)
            envelope = envelope_of(payload)
            if pending_ok and payload is not None and envelope and envelope.is_query_pending:
                self._observe(operation, "pending", started, http_status, envelope.request_id)
                return payload
            if (
                response.is_success
                and payload is not None
                and (envelope is None or envelope.error_code is None)
            ):
                self._observe(operation, "ok", started, http_status, None)
                return payload
            raise classify(
                http_status=http_status,
                text=text,
                retry_after_header=response.headers.get("retry-after"),
                oauth=oauth,
                hints=self._hints,
            )
        except DarajaError as e:
            if e.http_status is None:
                e.http_status = http_status
            outcome = type(e).__name__
            DARAJA_ERRORS.labels(operation, e.error_code or outcome).inc()
            self._observe(operation, outcome, started, e.http_status, e.request_id, error=e)
            raise

    @staticmethod
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


def _query_result(payload: dict[str, Any]) -> StkQueryResult:
    envelope = envelope_of(payload)
    if envelope is not None and envelope.is_query_pending:
        return StkQueryResult(
            result_code=None,
            result_desc=envelope.message,
            pending=True,
            # Daraja puts the CheckoutRequestID in requestId of this envelope.
            checkout_request_id=envelope.request_id,
            raw=payload,
        )
    code = normalise_result_code(payload.get("ResultCode"))
    if code is None:
        raise DarajaUnavailable(
            "STK Query answered without a ResultCode",
            maybe_processed=False,
            http_status=200,
            body=_dump(payload),
        )
    pending = code == PENDING_RESULT_CODE
    return StkQueryResult(
        result_code=None if pending else code,
        result_desc=str(payload.get("ResultDesc") or ""),
        pending=pending,
        merchant_request_id=_str_or_none(payload.get("MerchantRequestID")),
        checkout_request_id=_str_or_none(payload.get("CheckoutRequestID")),
        raw=payload,
    )


def _result_ack(payload: dict[str, Any]) -> ResultAck:
    response_code = normalise_result_code(payload.get("ResponseCode"))
    if response_code != "0":
        raise DarajaRejected(
            str(payload.get("ResponseDescription") or "request not accepted"),
            http_status=200,
            error_code=response_code,
            body=_dump(payload),
        )
    return ResultAck.model_validate({**payload, "ResponseCode": response_code})


def _pull_page(payload: dict[str, Any]) -> PullTransactionsPage:
    top = {str(k).lower(): v for k, v in payload.items()}
    rows = top.get("response", top.get("transaction"))
    transactions = [t for t in map(_pull_transaction, _flatten(rows)) if t is not None]
    return PullTransactionsPage(
        response_code=normalise_result_code(top.get("responsecode")) or "",
        response_message=str(top.get("responsemessage") or ""),
        response_ref_id=_str_or_none(top.get("responserefid")),
        transactions=transactions,
        raw=payload,
    )


def _flatten(value: Any) -> list[dict[str, Any]]:
    """The rows of Pull Transactions' doubly nested list (sometimes sent as a JSON string)."""
    if isinstance(value, str):
        parsed = parse_json_object(f'{{"v": {value}}}') if value.strip() else None
        value = parsed.get("v") if parsed else None
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [row for item in value for row in _flatten(item)]
    return []


def _pull_transaction(row: dict[str, Any]) -> PullTransaction | None:
    fields = {str(k).lower(): v for k, v in row.items()}
    transaction_id = _str_or_none(fields.get("transactionid"))
    if not transaction_id:
        log.warning("daraja_pull_row_without_id", keys=sorted(fields))
        return None
    return PullTransaction(
        transaction_id=transaction_id,
        transaction_date=_pull_date(fields.get("trxdate")),
        msisdn=_str_or_none(fields.get("msisdn")),
        sender=_str_or_none(fields.get("sender")),
        transaction_type=_str_or_none(fields.get("transactiontype")),
        bill_reference=_str_or_none(fields.get("billreference")),
        amount=to_decimal(fields.get("amount")),
        organization_name=_str_or_none(fields.get("organizationname")),
        raw=row,
    )


def _pull_time(moment: datetime) -> str:
    return moment.astimezone(NAIROBI).strftime("%Y-%m-%d %H:%M:%S")


def _pull_date(value: Any) -> datetime | None:
    """``trxDate`` as an aware datetime: ISO 8601 (naive read as Nairobi time) or
    ``YYYYMMDDHHmmss``."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    try:
        return parse_daraja_timestamp(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=NAIROBI)


def _seconds(value: Any) -> float | None:
    """``expires_in``: Daraja sends the string "3599"; its newer docs show a number."""
    number = to_decimal(value)
    return float(number) if number is not None and number > 0 else None


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _dump(payload: dict[str, Any]) -> str:
    return dumps(payload, default=str)[:2000]
