"""Standard Webhooks signing and verifying: the specification's example, a round trip, secret
rotation (several signatures), the timestamp window both ways, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.webhook_signing import WebhookVerificationError, headers, secret_key, sign, verify

# The example published with the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
OTHER_SECRET = "whsec_dGVzdC1yZWNlaXZlci1zZWNyZXQta2V5LTMyYnl0ZXMh"
NOW = 1_800_000_000


def signed(body: bytes, *, msg_id: str = "evt_1", timestamp: int = NOW) -> dict[str, str]:
    return headers(SPEC_SECRET, msg_id=msg_id, timestamp=timestamp, body=body)


class TestSign:
    def test_matches_the_specification_example(self) -> None:
        signature = sign(SPEC_SECRET, msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY)
        assert signature == SPEC_SIGNATURE

    def test_headers_carry_id_timestamp_and_signature(self) -> None:
        assert headers(SPEC_SECRET, msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY) == {
            "content-type": "application/json",
            "webhook-id": SPEC_ID,
            "webhook-timestamp": str(SPEC_TIMESTAMP),
            "webhook-signature": SPEC_SIGNATURE,
        }

    def test_a_secret_that_is_not_base64_is_refused(self) -> None:
        with pytest.raises(ValueError, match="whsec_ followed by base64"):
            secret_key("whsec_not base64!")


class TestVerify:
    @given(body=st.binary(max_size=200), msg_id=st.text(min_size=1, max_size=30).filter(str.strip))
    def test_round_trip_returns_the_message_id(self, body: bytes, msg_id: str) -> None:
        assert verify(SPEC_SECRET, headers=signed(body, msg_id=msg_id), body=body, now=NOW) == (
            msg_id
        )

    @given(body=st.binary(max_size=200), tamper=st.binary(min_size=1, max_size=5))
    def test_a_changed_body_is_refused(self, body: bytes, tamper: bytes) -> None:
        with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
            verify(SPEC_SECRET, headers=signed(body), body=body + tamper, now=NOW)

    def test_another_secret_is_refused(self) -> None:
        with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
            verify(OTHER_SECRET, headers=signed(b"{}"), body=b"{}", now=NOW)

    def test_any_one_of_several_signatures_is_enough(self) -> None:
        sent = signed(b"{}")
        rotating = {
            **sent,
            "webhook-signature": f"v1,bm90LXRoZS1zaWduYXR1cmU= {sent['webhook-signature']}",
        }
        assert verify(SPEC_SECRET, headers=rotating, body=b"{}", now=NOW) == "evt_1"

    def test_several_signatures_none_matching_are_refused(self) -> None:
        other = sign(OTHER_SECRET, msg_id="evt_1", timestamp=NOW, body=b"{}")
        forged = {**signed(b"{}"), "webhook-signature": f"v1,bm90LXRoZS1zaWduYXR1cmU= {other}"}
        with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
            verify(SPEC_SECRET, headers=forged, body=b"{}", now=NOW)

    @pytest.mark.parametrize("offset_s", [-300, 0, 300])
    def test_timestamps_within_the_tolerance_are_accepted(self, offset_s: int) -> None:
        sent = signed(b"{}", timestamp=NOW + offset_s)
        assert verify(SPEC_SECRET, headers=sent, body=b"{}", now=NOW) == "evt_1"

    @pytest.mark.parametrize("offset_s", [-301, 301])
    def test_a_stale_or_future_timestamp_is_refused(self, offset_s: int) -> None:
        sent = signed(b"{}", timestamp=NOW + offset_s)
        with pytest.raises(WebhookVerificationError, match="tolerance window"):
            verify(SPEC_SECRET, headers=sent, body=b"{}", now=NOW)

    def test_the_tolerance_is_configurable(self) -> None:
        sent = signed(b"{}", timestamp=NOW - 20)
        with pytest.raises(WebhookVerificationError, match="tolerance window"):
            verify(SPEC_SECRET, headers=sent, body=b"{}", now=NOW, tolerance_s=10)

    def test_a_timestamp_that_is_not_a_number_is_refused(self) -> None:
        sent = {**signed(b"{}"), "webhook-timestamp": "soon"}
        with pytest.raises(WebhookVerificationError, match="not a unix time"):
            verify(SPEC_SECRET, headers=sent, body=b"{}", now=NOW)

    @pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
    def test_a_missing_header_is_refused(self, missing: str) -> None:
        sent = {k: v for k, v in signed(b"{}").items() if k != missing}
        with pytest.raises(WebhookVerificationError, match="missing webhook-id"):
            verify(SPEC_SECRET, headers=sent, body=b"{}", now=NOW)
