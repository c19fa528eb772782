"""Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))
with the key taken from a `whsec_<base64>` secret."""

from __future__ import annotations

import base64
import hashlib
import hmac


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, *, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id=message_id, timestamp=timestamp, body=body),
    }


def verify(
    secret: str,
    *,
    message_id: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    now: float,
    tolerance_s: float = 300,
) -> bool:
    """What a receiver does; the gateway's tests use it as the receiving side."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance_s:
        return False
    expected = sign(secret, message_id=message_id, timestamp=sent_at, body=body)
    return any(
        hmac.compare_digest(expected, candidate)
        for candidate in signature_header.split()
        if candidate.startswith("v1,")
    )
