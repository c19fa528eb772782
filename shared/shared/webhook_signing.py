"""Standard Webhooks signatures (https://www.standardwebhooks.com): the header
`webhook-signature: v1,<base64 HMAC-SHA256>` over `"{webhook-id}.{webhook-timestamp}.{body}"`,
keyed with the decoded bytes of a `whsec_<base64>` secret. The gateway signs the events it sends;
session-api (and any subscriber written in Python) verifies them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
# The secret the gateway signs with and session-api verifies with in development, so `make run`
# works with no configuration. Both services refuse to start outside development while using it.
DEV_WEBHOOK_SECRET = "whsec_ZGV2LXNlc3Npb24tYXBpLXdlYmhvb2stc2VjcmV0"  # noqa: S105


class WebhookVerificationError(Exception):
    """The message is not provably from the sender, or is too old or too new to trust."""


def secret_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as e:
        raise ValueError("a webhook secret is whsec_ followed by base64") from e


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,<signature>` value for one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header a signed JSON message carries."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def verify(
    secret: str, *, headers: Mapping[str, str], body: bytes, now: float, tolerance_s: float = 300
) -> str:
    """Check the signature and the timestamp window; return the `webhook-id`, or raise
    WebhookVerificationError saying what is wrong."""
    msg_id = headers.get("webhook-id", "")
    raw_timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not msg_id or not raw_timestamp or not signatures:
        raise WebhookVerificationError(
            "missing webhook-id, webhook-timestamp or webhook-signature header"
        )
    try:
        timestamp = int(raw_timestamp)
    except ValueError as e:
        raise WebhookVerificationError("webhook-timestamp is not a unix time in seconds") from e
    # Both directions: an old timestamp is a replay, a future one would stay valid for too long.
    if abs(now - timestamp) > tolerance_s:
        raise WebhookVerificationError(
            f"webhook-timestamp is outside the {tolerance_s:g} s tolerance window"
        )
    expected = sign(secret, msg_id=msg_id, timestamp=timestamp, body=body)
    # Several space-separated signatures appear while the sender rotates secrets; one match is
    # enough. compare_digest keeps the comparison constant-time.
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate, expected):
            return msg_id
    raise WebhookVerificationError("no webhook-signature matches")
