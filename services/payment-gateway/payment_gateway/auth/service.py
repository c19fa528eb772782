"""Service API keys: `Authorization: Bearer <key>` with a key from `GATEWAY_API_KEYS`."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from payment_gateway.auth.exceptions import InvalidApiKey
from payment_gateway.config import Settings


@dataclass(frozen=True)
class Principal:
    """Who called: `key-<digest prefix>`, stable while the key is, never the key itself."""

    name: str


def principal_for(key: str) -> Principal:
    return Principal(name="key-" + hashlib.sha256(key.encode()).hexdigest()[:12])


def authenticate(presented: str | None, *, settings: Settings) -> Principal:
    """The caller behind a bearer key, or `InvalidApiKey`."""
    if not presented:
        raise InvalidApiKey(
            "send the service API key as `Authorization: Bearer <key>` (keys come from "
            "GATEWAY_API_KEYS)"
        )
    # Compare against every key, in constant time, so timing reveals nothing about which matched.
    matched = False
    for key in settings.API_KEYS:
        matched |= hmac.compare_digest(presented.encode(), key.get_secret_value().encode())
    if not matched:
        raise InvalidApiKey("the bearer key is not one of GATEWAY_API_KEYS")
    return principal_for(presented)
