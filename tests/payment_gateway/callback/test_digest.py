"""The dedupe key of a stored callback."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from payment_gateway.callback.service import body_digest

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@given(value=st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_same_json_in_any_layout_has_one_digest(value: dict[str, object]) -> None:
    compact = json.dumps(value, separators=(",", ":")).encode()
    spaced = json.dumps(value, indent=3, sort_keys=True).encode()
    assert body_digest(compact) == body_digest(spaced)


def test_different_content_or_non_json_differs() -> None:
    assert body_digest(b'{"ResultCode": 0}') != body_digest(b'{"ResultCode": 1032}')
    assert body_digest(b"<html>") != body_digest(b"<html >")
