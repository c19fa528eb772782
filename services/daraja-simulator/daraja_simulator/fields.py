"""Field readers shared by every Daraja API: each returns the value in canonical form, or None
when Daraja would refuse it.

Safaricom's own samples mix numbers and strings (`"BusinessShortCode": 174379`, `"Amount": "1"`),
so numeric fields accept either.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from daraja_simulator.clock import parse_daraja_timestamp

_MSISDN = re.compile(r"^254[17]\d{8}$")
_SHORTCODE = re.compile(r"^\d{5,7}$")
_WHOLE = re.compile(r"^\d+(?:\.0+)?$")


def _digits(value: Any) -> str | None:
    """A JSON number or a string of digits, as a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    return None


def shortcode(value: Any) -> str | None:
    digits = _digits(value)
    return digits if digits is not None and _SHORTCODE.match(digits) else None


def msisdn(value: Any) -> str | None:
    digits = _digits(value)
    return digits if digits is not None and _MSISDN.match(digits) else None


def whole_amount(value: Any) -> int | None:
    """A whole number of shillings: ``10``, ``"10"``, ``10.0`` or ``"10.00"``; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        return None
    if isinstance(value, str) and value.isascii() and _WHOLE.match(value):
        return int(Decimal(value))
    return None


def timestamp(value: Any) -> str | None:
    text = _digits(value)
    return text if text is not None and parse_daraja_timestamp(text) is not None else None


def text(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def callback_url_ok(url: Any, *, require_https: bool, blocked_words: tuple[str, ...]) -> bool:
    """Daraja refuses a result URL that does not parse, has spaces, is plain HTTP in production,
    or contains a blocked keyword anywhere (any case)."""
    if not isinstance(url, str) or not url or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is what rejects a malformed one
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if require_https and parts.scheme != "https":
        return False
    lowered = url.lower()
    return not any(word in lowered for word in blocked_words)
