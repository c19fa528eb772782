import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.webhook_signing import WebhookVerificationError, sign, verify

SECRET = "whsec_" + base64.b64encode(b"a test secret of some length").decode()
NOW = 1_795_331_709

ids = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)


def headers(msg_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


class TestVerify:
    @given(msg_id=ids, body=st.binary(max_size=500), skew=st.integers(-300, 300))
    def test_accepts_what_was_signed_within_the_window(
        self, msg_id: str, body: bytes, skew: int
    ) -> None:
        signature = sign(secret=SECRET, msg_id=msg_id, timestamp=NOW + skew, body=body)

        assert (
            verify(
                secret=SECRET,
                headers=headers(msg_id, NOW + skew, signature),
                body=body,
                now=NOW,
                tolerance_s=300,
            )
            == msg_id
        )

    @given(
        body=st.binary(min_size=1, max_size=200),
        position=st.integers(min_value=0),
        flip=st.integers(1, 255),
    )
    def test_refuses_any_changed_byte(self, body: bytes, position: int, flip: int) -> None:
        signature = sign(secret=SECRET, msg_id="msg_1", timestamp=NOW, body=body)
        index = position % len(body)
        tampered = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]

        with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
            verify(
                secret=SECRET,
                headers=headers("msg_1", NOW, signature),
                body=tampered,
                now=NOW,
                tolerance_s=300,
            )

    @given(skew=st.one_of(st.integers(301, 10**6), st.integers(-(10**6), -301)))
    def test_refuses_timestamps_outside_the_window(self, skew: int) -> None:
        signature = sign(secret=SECRET, msg_id="msg_1", timestamp=NOW + skew, body=b"{}")

        with pytest.raises(WebhookVerificationError, match="tolerance"):
            verify(
                secret=SECRET,
                headers=headers("msg_1", NOW + skew, signature),
                body=b"{}",
                now=NOW,
                tolerance_s=300,
            )

    def test_the_id_and_timestamp_are_signed_too(self) -> None:
        signature = sign(secret=SECRET, msg_id="msg_1", timestamp=NOW, body=b"{}")

        for changed in (headers("msg_2", NOW, signature), headers("msg_1", NOW + 1, signature)):
            with pytest.raises(WebhookVerificationError):
                verify(secret=SECRET, headers=changed, body=b"{}", now=NOW, tolerance_s=300)

    @pytest.mark.parametrize(
        "bad",
        [
            {},
            {"webhook-id": "m", "webhook-timestamp": "soon", "webhook-signature": "v1,xx"},
            {"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": "v2,xx"},
        ],
    )
    def test_refuses_missing_or_malformed_headers(self, bad: dict[str, str]) -> None:
        with pytest.raises(WebhookVerificationError):
            verify(secret=SECRET, headers=bad, body=b"{}", now=NOW, tolerance_s=300)

    def test_matches_the_gateway_readme_example_algorithm(self) -> None:
        # base64(HMAC-SHA256(base64decode(secret after whsec_), "id.timestamp.body")).
        import hashlib
        import hmac

        key = base64.b64decode(SECRET.removeprefix("whsec_"))
        expected = base64.b64encode(
            hmac.new(key, f"msg_1.{NOW}.".encode() + b"{}", hashlib.sha256).digest()
        ).decode()

        assert sign(secret=SECRET, msg_id="msg_1", timestamp=NOW, body=b"{}") == f"v1,{expected}"
