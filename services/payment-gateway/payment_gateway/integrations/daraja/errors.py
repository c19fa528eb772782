"""One error hierarchy for everything Daraja can answer besides success, and the function that
maps a raw answer onto it.

Every error carries what Daraja said (``http_status``, ``error_code``, ``request_id``, ``body``,
``message``) and ``retryable``, so the job layer decides what to do without parsing text:

- ``DarajaRejected``: the request itself is wrong (bad field, wrong credentials, unknown
  merchant, wrong endpoint or method, product not enabled). Never retried.
- ``DarajaAuthError``: OAuth refused our key and secret, or a fresh token was still refused.
- ``DarajaRateLimited``: spike arrest, quota, or "System is busy" (all ``500.003.0x``), or our
  own query limiter. ``retry_after_s`` says how long to stay away.
- ``DarajaSubscriberBusy``: a prompt is already open on that phone; retry after a minute.
- ``DarajaUnavailable``: 5xx without a known code, HTML/SOAP/empty bodies, timeouts,
  connection errors. ``maybe_processed`` says whether Daraja may have acted on the request
  (a read timeout on an STK push may still ring the phone).

``500.001.1001`` means four different things; the message text decides which.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

TOKEN_INVALID_CODES = frozenset({"404.001.03", "400.003.01", "401.002.01", "401.001"})
LOCK_SUBSCRIBER_CODE = "500.001.1001"
SPIKE_ARREST_CODE = "500.003.02"
QUOTA_CODE = "500.003.03"

_MAX_BODY_CHARS = 2000


class DarajaError(Exception):
    """Daraja did not do what was asked."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        body: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.error_code = error_code
        self.request_id = request_id
        # Bounded so an HTML error page never floods a log line or a database column.
        self.body = body[:_MAX_BODY_CHARS] if body is not None else None
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        parts = [self.message]
        if self.error_code:
            parts.append(f"code={self.error_code}")
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self!s})"


class DarajaRejected(DarajaError):
    """Daraja refused the request as invalid; sending it again gives the same answer."""

    retryable = False


class DarajaAuthError(DarajaError):
    """Our credentials were refused (OAuth), or a freshly issued token was still refused.

    OAuth refusals are not retryable (the key or secret is wrong for this environment). A token
    refused again right after a refresh is retryable: another app sharing the key may have
    fetched a token in between, which invalidates ours; if the product is not enabled it keeps
    failing and the job's bounded retries end it.
    """

    retryable = False


class DarajaTokenInvalid(DarajaAuthError):
    """An "Invalid Access Token" answer (any of its four codes). The client refreshes the token
    and repeats the call once; it only escapes when the fresh token is refused too."""

    retryable = True


class DarajaRateLimited(DarajaError):
    """Daraja (or our own shared limiter) asks us to slow down."""

    retryable = True

    def __init__(self, message: str, *, retry_after_s: float, kind: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s
        self.kind = kind  # spike_arrest | quota | system_busy | http_429 | local


class DarajaSubscriberBusy(DarajaError):
    """A transaction is already in process for the phone ("Unable to lock subscriber")."""

    retryable = True

    def __init__(self, message: str, *, retry_after_s: float, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s


class DarajaUnavailable(DarajaError):
    """Daraja could not be reached or answered with something that is not an answer."""

    retryable = True

    def __init__(self, message: str, *, maybe_processed: bool, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.maybe_processed = maybe_processed


@dataclass(frozen=True)
class BackoffHints:
    """Seconds to stay away after each kind of throttling answer (Daraja sends no Retry-After)."""

    spike_arrest_s: float = 5
    quota_s: float = 60
    system_busy_s: float = 120
    subscriber_busy_s: float = 60


@dataclass(frozen=True)
class Envelope:
    """Daraja's synchronous error shape ``{"requestId", "errorCode", "errorMessage"}``."""

    error_code: str | None
    message: str
    request_id: str | None

    PENDING_TEXT: ClassVar[str] = "being processed"

    @property
    def is_query_pending(self) -> bool:
        """The STK Query's "The transaction is being processed": an answer, not an error."""
        return self.error_code == LOCK_SUBSCRIBER_CODE and self.PENDING_TEXT in self.message.lower()

    @property
    def is_token_invalid(self) -> bool:
        return self.error_code in TOKEN_INVALID_CODES or (
            "invalid access token" in self.message.lower()
        )


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The body as a JSON object, or None if it is anything else (HTML, SOAP, empty, a list)."""
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def envelope_of(payload: dict[str, Any] | None) -> Envelope | None:
    """The error envelope in ``payload``, if it is one. Apigee faults sometimes nest it as
    ``{"fault": {"faultstring": ...}}``, which is read as a code-less envelope."""
    if payload is None:
        return None
    code = payload.get("errorCode")
    message = payload.get("errorMessage")
    if code is not None or message is not None:
        return Envelope(
            error_code=str(code) if code is not None else None,
            message=str(message or ""),
            request_id=_str_or_none(payload.get("requestId")),
        )
    fault = payload.get("fault")
    if isinstance(fault, dict) and fault.get("faultstring"):
        return Envelope(error_code=None, message=str(fault["faultstring"]), request_id=None)
    return None


def classify(
    *,
    http_status: int,
    text: str,
    retry_after_header: str | None = None,
    oauth: bool = False,
    hints: BackoffHints | None = None,
) -> DarajaError:
    """The error a non-success Daraja answer stands for. Never raises."""
    hints = hints or BackoffHints()
    envelope = envelope_of(parse_json_object(text))
    common: dict[str, Any] = {"http_status": http_status, "body": text}
    if envelope is None:
        return _classify_without_envelope(
            http_status, text, retry_after_header, oauth=oauth, hints=hints
        )
    code, message = envelope.error_code, envelope.message
    common.update(error_code=code, request_id=envelope.request_id)
    lowered = message.lower()
    if (code or "").startswith("400.008.") or (
        oauth and 400 <= http_status < 500 and http_status != 429
    ):
        return DarajaAuthError(message or "OAuth refused the credentials", **common)
    if envelope.is_token_invalid:
        return DarajaTokenInvalid(message or "Invalid Access Token", **common)
    if code == LOCK_SUBSCRIBER_CODE:
        if "lock subscriber" in lowered or "already in process" in lowered:
            return DarajaSubscriberBusy(message, retry_after_s=hints.subscriber_busy_s, **common)
        if "wrong credentials" in lowered or "merchant does not exist" in lowered:
            return DarajaRejected(message, **common)
        # "being processed" reaches here only outside STK Query, where it is not an answer.
        return DarajaUnavailable(message, maybe_processed=False, **common)
    throttled = _throttled(code, message, retry_after_header, hints, common)
    if throttled is not None:
        return throttled
    if "apiproduct" in lowered or "duplicate" in lowered:
        return DarajaRejected(message, **common)
    if http_status == 429:
        return DarajaRateLimited(
            message,
            retry_after_s=_retry_after(retry_after_header, hints.spike_arrest_s),
            kind="http_429",
            **common,
        )
    if http_status >= 500 or http_status in (408, 425):
        # A coded 5xx (e.g. 500.003.1001 Internal Server Error) is Daraja failing before it acted.
        return DarajaUnavailable(message or "Daraja failed", maybe_processed=False, **common)
    return DarajaRejected(message or f"Daraja refused the request (HTTP {http_status})", **common)


def _throttled(
    code: str | None,
    message: str,
    retry_after_header: str | None,
    hints: BackoffHints,
    common: dict[str, Any],
) -> DarajaRateLimited | None:
    """Spike arrest, "System is busy" and quota answers, which ask us to stay away a while."""
    lowered = message.lower()
    if code == SPIKE_ARREST_CODE or (code is None and "spike arrest" in lowered):
        # "System is busy" shares spike arrest's code and remedy (stay away, then try again);
        # it is told apart only to stay away longer, as its text asks ("in few minutes").
        busy = "busy" in lowered
        return DarajaRateLimited(
            message,
            retry_after_s=_retry_after(
                retry_after_header, hints.system_busy_s if busy else hints.spike_arrest_s
            ),
            kind="system_busy" if busy else "spike_arrest",
            **common,
        )
    if code == QUOTA_CODE or (code is None and "quota violation" in lowered):
        return DarajaRateLimited(
            message,
            retry_after_s=_retry_after(retry_after_header, hints.quota_s),
            kind="quota",
            **common,
        )
    return None


def _classify_without_envelope(
    http_status: int,
    text: str,
    retry_after_header: str | None,
    *,
    oauth: bool,
    hints: BackoffHints,
) -> DarajaError:
    common: dict[str, Any] = {"http_status": http_status, "body": text}
    shape = "an empty body" if not text.strip() else "a body that is not a Daraja answer"
    if http_status == 429:
        return DarajaRateLimited(
            f"HTTP 429 with {shape}",
            retry_after_s=_retry_after(retry_after_header, hints.spike_arrest_s),
            kind="http_429",
            **common,
        )
    if http_status >= 500 or http_status in (408, 425):
        # A gateway timeout (504) or a proxy's HTML page may sit in front of a request Daraja
        # went on to process.
        return DarajaUnavailable(
            f"HTTP {http_status} with {shape}",
            maybe_processed=http_status in (502, 504),
            **common,
        )
    if oauth and http_status in (400, 401, 403):
        # Sandbox credentials sent to production get a bare 400 with no body.
        return DarajaAuthError(
            f"OAuth refused the credentials (HTTP {http_status} with {shape}); check the consumer "
            "key and secret belong to this environment",
            **common,
        )
    if http_status == 401:
        return DarajaTokenInvalid(f"HTTP 401 with {shape}", **common)
    if 200 <= http_status < 300:
        return DarajaUnavailable(f"HTTP {http_status} with {shape}", maybe_processed=True, **common)
    return DarajaRejected(f"HTTP {http_status} with {shape}", **common)


def _retry_after(header: str | None, default: float) -> float:
    if header:
        try:
            seconds = float(header)
        except ValueError:
            return default
        if seconds >= 0:
            return seconds
    return default


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
