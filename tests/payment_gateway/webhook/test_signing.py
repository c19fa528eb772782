"""Standard Webhooks signatures."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from payment_gateway.webhook import signing

# The example published with the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_matches_the_specification_example() -> None:
    signature = signing.sign(
        SPEC_SECRET, message_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY
    )
    assert signature == SPEC_SIGNATURE


def test_headers_carry_id_timestamp_and_signature() -> None:
    headers = signing.headers(
        SPEC_SECRET, message_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY
    )
    assert headers == {
        "content-type": "application/json",
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }


@given(body=st.binary(max_size=200), tamper=st.binary(min_size=1, max_size=5))
def test_verify_accepts_the_signed_body_only(body: bytes, tamper: bytes) -> None:
    now = int(time.time())
    signature = signing.sign(SPEC_SECRET, message_id="evt_1", timestamp=now, body=body)
    common = {"message_id": "evt_1", "timestamp": str(now), "now": now}
    assert signing.verify(SPEC_SECRET, signature_header=signature, body=body, **common)  # type: ignore[arg-type]
    assert not signing.verify(SPEC_SECRET, signature_header=signature, body=body + tamper, **common)  # type: ignore[arg-type]


def test_verify_accepts_any_of_several_signatures_and_refuses_stale_ones() -> None:
    now = int(time.time())
    good = signing.sign(SPEC_SECRET, message_id="evt_2", timestamp=now, body=b"{}")
    rotating = f"v1,bm90LXRoZS1zaWduYXR1cmU= {good}"
    assert signing.verify(
        SPEC_SECRET,
        message_id="evt_2",
        timestamp=str(now),
        signature_header=rotating,
        body=b"{}",
        now=now,
    )
    assert not signing.verify(
        SPEC_SECRET,
        message_id="evt_2",
        timestamp=str(now),
        signature_header=good,
        body=b"{}",
        now=now + 301,
    )
    assert not signing.verify(
        SPEC_SECRET,
        message_id="evt_2",
        timestamp="soon",
        signature_header=good,
        body=b"{}",
        now=now,
    )
