"""The console's pure parts: percentiles over a histogram agree with PostgreSQL's
`percentile_cont` over the values it stands for, and a callback body never shows a phone."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from payment_gateway.console.service import masked_body, percentile


def percentile_cont(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


@given(
    st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=200),
    st.sampled_from([0.0, 0.25, 0.5, 0.95, 0.99, 1.0]),
)
def test_a_histogram_percentile_is_percentile_cont(values: list[int], fraction: float) -> None:
    histogram = sorted({v: values.count(v) for v in values}.items())

    assert percentile(histogram, fraction) == percentile_cont(values, fraction)


def test_no_values_no_percentile() -> None:
    assert percentile([], 0.5) is None


@given(st.integers(min_value=10_000_000, max_value=99_999_999), st.sampled_from(["7", "1"]))
def test_a_callback_body_never_shows_the_phone(digits: int, prefix: str) -> None:
    phone = f"254{prefix}{digits}"
    body = {
        "Body": {
            "stkCallback": {
                "ResultCode": 0,
                "ResultDesc": f"paid from {phone}",
                "CallbackMetadata": {
                    "Item": [
                        {"Name": "Amount", "Value": 100},
                        {"Name": "PhoneNumber", "Value": int(phone)},
                    ]
                },
            }
        },
        "msisdn": phone,
    }

    masked = masked_body(json.dumps(body).encode())

    assert phone[3:-4] not in json.dumps(masked)
    items = masked["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    assert items[1]["Value"] == f"254*****{phone[-4:]}"
    assert items[0]["Value"] == 100


def test_an_unreadable_body_is_kept_masked() -> None:
    masked = masked_body(b"<html>0712345678 failed</html>")

    assert "12345678" not in masked["unreadable"]
