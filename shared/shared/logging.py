"""Structured JSON logging with a request id, and nothing in a line that must not be there.

Every string in an event (messages, fields, exception text, lines from libraries that log through
the standard library) passes :func:`redact`: Kenyan phone numbers are masked to their last four
digits, also inside Daraja's ``CheckoutRequestID``; the capability token of a callback path,
bearer credentials, JWTs, argon2 hashes and the local part of e-mail addresses are replaced; and
row values are taken out of database error messages. UUIDs, hex ids and request ids stay intact.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import structlog
from structlog.types import EventDict, WrappedLogger

HIDDEN = "***"

# A Kenyan mobile number as people and systems write it: 07XXXXXXXX, 01XXXXXXXX, 2547..., 2541...,
# +254 (also URL-encoded), or the bare nine significant digits, grouped 3-3-3 by optional spaces
# or dashes. Letters or digits on either side make it part of an identifier (a hex id, a request
# id), which is left alone.
_SEP = r"[ \-]?"
_PHONE = (
    rf"(?<![0-9A-Za-z])(?:(?:\+|%2B)?254{_SEP}|0)?[17]\d\d{_SEP}\d{{3}}{_SEP}\d{{3}}(?![0-9A-Za-z])"
)
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# A UUID is matched first and kept whole: its dash-separated groups are never read as a phone.
_PHONE_OR_UUID = re.compile(rf"(?P<uuid>{_UUID})|(?P<phone>{_PHONE})")
_NUMERIC_PHONE = re.compile(r"^(?:254|0)?[17]\d{8}$")

# Daraja's CheckoutRequestID is ws_CO_ + DDMMYYYYHHmmss + fractions of a second + the MSISDN
# without 254 (its last nine digits). Older ids are shorter and carry no phone number.
_CHECKOUT_ID = re.compile(r"\bws_CO_(\d{23,})(?!\d)")

# A field whose name says it holds a credential is hidden whatever its value looks like.
_SECRET_KEYS = frozenset(
    {"authorization", "cookie", "set-cookie", "x-api-key", "api_key", "pin", "consumer_key"}
)
_SECRET_KEY_SUFFIXES = ("password", "passkey", "secret", "token", "password_hash")


def _mask_phone(match: re.Match[str]) -> str:
    if match.group("uuid"):
        return match.group(0)
    raw = match.group(0)
    head = "%2B" if raw.startswith("%2B") else ""
    keep = sum(c.isdigit() for c in raw[len(head) :]) - 4
    out = [head]
    for char in raw[len(head) :]:
        if char.isdigit():
            out.append("*" if keep > 0 else char)
            keep -= 1
        else:
            out.append(char)
    return "".join(out)


def mask_phone_numbers(text: str) -> str:
    """Replace every digit of each Kenyan phone number but its last four with ``*``."""
    return _PHONE_OR_UUID.sub(_mask_phone, text)


def _mask_checkout_id(match: re.Match[str]) -> str:
    digits = match.group(1)
    return f"ws_CO_{digits[:-9]}{'*' * 5}{digits[-4:]}"


def mask_checkout_ids(text: str) -> str:
    """Mask the phone number inside each CheckoutRequestID, keeping its time and the phone's last
    four digits: enough to find the payment, not enough to call the customer."""
    return _CHECKOUT_ID.sub(_mask_checkout_id, text)


# (a substring that must be present, the pattern, its replacement). The substring test keeps the
# common case (a string with none of these) to one scan per rule.
_Replacement = str | Callable[[re.Match[str]], str]
_RULES: tuple[tuple[str, re.Pattern[str], _Replacement], ...] = (
    # A callback URL's last segment is a capability: whoever knows it can post results.
    ("/callbacks/", re.compile(r"(/callbacks/[A-Za-z0-9_-]+/)[^/?#\s\"'<>]+"), rf"\1{HIDDEN}"),
    # Credentials as they appear in an Authorization header.
    ("Bearer", re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/=-]{16,}"), rf"\1{HIDDEN}"),
    ("Basic", re.compile(r"\b(Basic\s+)[A-Za-z0-9+/=]{16,}"), rf"\1{HIDDEN}"),
    ("eyJ", re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), HIDDEN),
    ("$argon2", re.compile(r"\$argon2[a-z]*\$[A-Za-z0-9+/=$,.-]+"), f"$argon2{HIDDEN}"),
    # The local part of an address (or the password of user:password@host in a URL).
    (
        "@",
        re.compile(r"[A-Za-z0-9._%+-]+@(?=[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"),
        f"{HIDDEN}@",
    ),
    # SQLAlchemy prints a statement's parameters (rows of user tables: e-mail addresses,
    # password hashes); engines hide them, this catches any engine that does not.
    ("[parameters:", re.compile(r"\[parameters: [^\n]*"), "[parameters hidden]"),
    # asyncpg and PostgreSQL quote the offending value in some messages.
    (
        "query argument",
        re.compile(r"(invalid input for query argument \$\d+: )[^\n]*?( \([^()\n]*\))?$", re.M),
        rf"\1{HIDDEN}\2",
    ),
    (
        "invalid input",
        re.compile(r"(invalid input (?:syntax|value) for [^:\n]+: )\"[^\n]*\""),
        rf'\1"{HIDDEN}"',
    ),
    (
        "Key (",
        re.compile(r"(Key \([^)\n]*\)=\()[^\n]*?(\) (?:already exists|is not present))"),
        rf"\1{HIDDEN}\2",
    ),
    ("Failing row", re.compile(r"(Failing row contains \()[^\n]*\)"), rf"\1{HIDDEN})"),
    ("ws_CO_", _CHECKOUT_ID, _mask_checkout_id),
)


def redact(text: str) -> str:
    """``text`` with every secret and personal detail this module knows of hidden."""
    for needle, pattern, replacement in _RULES:
        if needle in text:
            text = pattern.sub(replacement, text)
    return mask_phone_numbers(text)


def _is_secret_key(key: object) -> bool:
    name = str(key).lower()
    return name in _SECRET_KEYS or name.endswith(_SECRET_KEY_SUFFIXES)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return mask_phone_numbers(str(value)) if _NUMERIC_PHONE.match(str(value)) else value
    if isinstance(value, Mapping):
        return {k: (HIDDEN if _is_secret_key(k) else _mask_value(v)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask_value(v) for v in value]
    # Anything else (an exception, a UUID, a model) would be rendered by its repr: redact that.
    return redact(repr(value))


def mask_processor(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: redact secrets and personal details anywhere in the event."""
    masked: EventDict = _mask_value(event_dict)
    return masked


class _StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to ``sys.stdout`` as it is when a line is written, not when logging was configured:
    a stream captured at configuration time (a test's capture buffer) may be closed by then."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def configure_logging(
    *, level: str = "INFO", json: bool = True, service: str = "", cache_loggers: bool = True
) -> None:
    """Configure structlog and the standard library alike. ``cache_loggers=False`` (tests) keeps
    every logger following the current configuration, so a later reconfiguration (structlog's
    ``capture_logs``) still reaches loggers that were already used."""
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if service:
        shared_processors.insert(0, _add_service(service))
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.format_exc_info,
            mask_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        # No file argument: PrintLogger then prints to sys.stdout as it is at each line (loggers
        # are cached on first use, so a stream bound now would outlive a test's capture).
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=cache_loggers,
    )
    # Libraries that log through the standard library (uvicorn, arq, httpx, alembic) go through
    # the same redaction and rendering; their exceptions are rendered to text first so that the
    # text is redacted too.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_processor,
            renderer,
        ],
    )
    handler = _StdoutHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # Our own middleware logs each request (its path redacted like every string); uvicorn's access
    # line would only repeat it.
    logging.getLogger("uvicorn.access").disabled = True


def _add_service(service: str) -> Any:
    def processor(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return processor
