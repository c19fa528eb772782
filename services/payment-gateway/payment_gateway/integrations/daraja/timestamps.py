"""Daraja's ``YYYYMMDDHHmmss`` timestamps (Africa/Nairobi wall time) and the STK password built
from one."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

NAIROBI = ZoneInfo("Africa/Nairobi")
DARAJA_TIME_FORMAT = "%Y%m%d%H%M%S"


def daraja_timestamp(now: datetime | None = None) -> str:
    """``YYYYMMDDHHmmss`` in Nairobi time for ``now`` (an aware datetime; default: the clock)."""
    if now is None:
        now = datetime.now(NAIROBI)
    elif now.tzinfo is None:
        raise ValueError("daraja_timestamp needs an aware datetime; naive times are ambiguous")
    return now.astimezone(NAIROBI).strftime(DARAJA_TIME_FORMAT)


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """``base64(shortcode + passkey + timestamp)``: plain concatenation, no separators. The
    shortcode and timestamp must be the ones sent in the same request body."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode("ascii")


def parse_daraja_timestamp(value: str | int) -> datetime:
    """A Daraja ``YYYYMMDDHHmmss`` (string or JSON number) read as Nairobi time, returned as an
    aware UTC datetime. Raises ValueError on anything else."""
    text = str(value).strip()
    if len(text) != 14 or not text.isdigit():
        raise ValueError(f"not a YYYYMMDDHHmmss timestamp: {value!r}")
    local = datetime.strptime(text, DARAJA_TIME_FORMAT).replace(tzinfo=NAIROBI)
    return local.astimezone(UTC)
