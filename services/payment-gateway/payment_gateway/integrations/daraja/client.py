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
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import httpx
import structlog
from pydantic import ValidationError
from redis.asyncio import Redis

from payment_gateway.integrations.daraja import responses, transport
from payment_gateway.integrations.daraja.catalogue import normalise_result_code
from payment_gateway.integrations.daraja.config import DarajaConfig
from payment_gateway.integrations.daraja.errors import (
    BackoffHints,
    DarajaError,
    DarajaRejected,
    DarajaTokenInvalid,
    DarajaUnavailable,
)
from payment_gateway.integrations.daraja.metrics import (
    DARAJA_TOKEN_FETCHES,
)
from payment_gateway.integrations.daraja.ratelimit import RateLimiter
from payment_gateway.integrations.daraja.schemas import (
    PullRegistration,
    PullTransactionsPage,
    ResultAck,
    StkPushAccepted,
    StkQueryResult,
)
from payment_gateway.integrations.daraja.timestamps import (
    daraja_timestamp,
    stk_password,
)
from payment_gateway.integrations.daraja.token import FetchedToken, TokenCache, app_key
from shared.http import KEEPALIVE_EXPIRY_S
from shared.worker import backoff_seconds

log = structlog.get_logger("payment_gateway.daraja")

OAUTH_PATH = "/oauth/v1/generate"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
TRANSACTION_STATUS_PATH = "/mpesa/transactionstatus/v1/query"
REVERSAL_PATH = "/mpesa/reversal/v1/request"
PULL_TRANSACTIONS_PATH = "/pulltransactions/v1/query"
PULL_REGISTER_PATH = "/pulltransactions/v1/register"
PULL_REGISTERED = frozenset({"1000", "1001"})
C2B_REGISTER_PATH = "/mpesa/c2b/v1/registerurl"

_PHONE = re.compile(r"^254[17]\d{8}$")
# Connection-level failures happen before a request leaves this machine.

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
            limits=httpx.Limits(
                max_connections=config.max_connections, keepalive_expiry=KEEPALIVE_EXPIRY_S
            ),
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
                body=responses.dump(payload),
            )
        try:
            accepted = StkPushAccepted.model_validate({"ResponseCode": "0", **payload})
        except ValidationError as e:
            raise DarajaUnavailable(
                "STK push answered without MerchantRequestID and CheckoutRequestID",
                maybe_processed=True,
                http_status=200,
                body=responses.dump(payload),
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
            return responses.query_result(payload)

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
        return responses.result_ack(payload)

    async def reversal(
        self,
        *,
        transaction_id: str,
        amount: int,
        result_url: str,
        timeout_url: str,
        initiator: str,
        security_credential: str,
        remarks: str = "Payment reversal",
        occasion: str = "",
    ) -> ResultAck:
        """Ask M-Pesa to reverse the transaction ``transaction_id`` (a receipt) of ``amount``
        whole KES to the shortcode's payer; the result is POSTed to ``result_url`` later. Sent
        once: a Reversal moves money, so its retries belong to a job that owns the refund."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
            raise ValueError(f"amount must be a whole number of KES, at least 1: {amount!r}")
        body: dict[str, Any] = {
            "Initiator": initiator,
            "SecurityCredential": security_credential,
            "CommandID": "TransactionReversal",
            "TransactionID": transaction_id,
            "Amount": str(amount),
            "ReceiverParty": self.config.shortcode,
            # Misspelled in Daraja's API itself; 11 is the organisation's identifier type here.
            "RecieverIdentifierType": "11",
            "ResultURL": result_url,
            "QueueTimeOutURL": timeout_url,
            "Remarks": remarks,
            "Occasion": occasion,
        }
        payload = await self._authorized("reversal", REVERSAL_PATH, body)
        return responses.result_ack(payload)

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
            "StartDate": responses.pull_time(start),
            "EndDate": responses.pull_time(end),
            "OffSetValue": str(offset),
        }

        async def once() -> PullTransactionsPage:
            payload = await self._authorized("pull_transactions", PULL_TRANSACTIONS_PATH, body)
            return responses.pull_page(payload)

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
                body=responses.dump(payload),
            )
        return PullRegistration.model_validate({**payload, "ResponseStatus": status})

    async def register_c2b_urls(
        self, *, confirmation_url: str, validation_url: str, response_type: str = "Completed"
    ) -> dict[str, Any]:
        """Register the paybill's C2B URLs (production takes this once). `response_type` is
        what M-Pesa does when validation does not answer: Completed or Cancelled."""
        body = {
            "ShortCode": self.config.shortcode,
            "ResponseType": response_type,
            "ConfirmationURL": confirmation_url,
            "ValidationURL": validation_url,
        }
        payload = await self._authorized("c2b_register", C2B_REGISTER_PATH, body)
        code = normalise_result_code(payload.get("ResponseCode"))
        if code not in (None, "0"):
            raise DarajaRejected(
                str(payload.get("ResponseDescription") or "C2B URLs not registered"),
                http_status=200,
                error_code=code,
                body=responses.dump(payload),
            )
        return payload

    async def fetch_new_token(self) -> FetchedToken:
        """Fetch a token even if one is cached, and share it: the only proof that these
        credentials work (a cached token says nothing about a changed secret). Sharing it keeps
        the other processes on a valid token, since Daraja drops the previous one."""
        fetched = await self._fetch_token()
        await self.tokens.store(fetched)
        return fetched

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
        call = transport.Call(operation, "POST", self.config.url_root + path, pending_ok=pending_ok)
        return await transport.exchange(
            self._http,
            call,
            hints=self._hints,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )

    async def _fetch_token(self) -> FetchedToken:
        try:
            payload = await transport.exchange(
                self._http,
                transport.Call("oauth", "GET", self.config.url_root + OAUTH_PATH, oauth=True),
                hints=self._hints,
                params={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(
                    self.config.consumer_key, self.config.consumer_secret.get_secret_value()
                ),
            )
            token = payload.get("access_token")
            expires_in = responses.seconds(payload.get("expires_in"))
            if not isinstance(token, str) or not token or expires_in is None:
                raise DarajaUnavailable(
                    "OAuth answered without access_token and expires_in",
                    maybe_processed=False,
                    http_status=200,
                    body=responses.dump({k: v for k, v in payload.items() if k != "access_token"}),
                )
        except DarajaError:
            DARAJA_TOKEN_FETCHES.labels("error").inc()
            raise
        DARAJA_TOKEN_FETCHES.labels("ok").inc()
        log.info("daraja_token_fetched", expires_in_s=expires_in)
        return FetchedToken(access_token=token, expires_in_s=expires_in)
