"""Canonical JSON: one byte string for one value, so a hash computed when a row is chained is
computed again, byte for byte, when it is verified years later."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]


def moment(value: datetime) -> str:
    """A timestamp as UTC ISO 8601 with microseconds (PostgreSQL keeps exactly microseconds)."""
    if value.tzinfo is None:
        raise ValueError("audit timestamps must carry a timezone")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def normalise(value: Any) -> JsonValue:
    """The value as plain JSON that survives a round trip through PostgreSQL's JSONB unchanged:
    timestamps, ids and enums become strings; a float becomes its text (JSONB would rewrite its
    digits, and money here is whole shillings anyway); tuples and sets become lists."""
    if value is None or isinstance(value, bool | int | str):
        if isinstance(value, str) and "\x00" in value:
            return value.replace("\x00", "\\u0000")  # JSONB cannot store NUL
        return value
    if isinstance(value, Enum):
        return normalise(value.value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((normalise(item) for item in value), key=dumps)
    raise TypeError(f"an audit detail cannot hold a {type(value).__name__}")


def dumps(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes that are hashed and signed."""
    return json.dumps(
        normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()
