"""Canonical JSON, entry hashes and checkpoint signatures: pure functions, checked over many
values (hypothesis)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.audit import canonical, signing
from shared.audit.chain import GENESIS, Content, entry_hash

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_bytes_survive_a_json_round_trip(value: Any) -> None:
    # What the chainer hashes is what the verifier, reading JSONB back, hashes again.
    encoded = canonical.dumps(value)
    assert canonical.dumps(json.loads(encoded)) == encoded
    assert canonical.normalise(canonical.normalise(value)) == canonical.normalise(value)


@given(st.dictionaries(st.text(max_size=8), st.integers(), min_size=2, max_size=6))
def test_key_order_does_not_matter(value: dict[str, int]) -> None:
    reversed_order = dict(reversed(list(value.items())))
    assert canonical.dumps(value) == canonical.dumps(reversed_order)


def test_rich_values_become_plain_json() -> None:
    moment = datetime(2026, 12, 1, 15, 0, 0, 123456, tzinfo=timezone(timedelta(hours=3)))
    ident = uuid.UUID(int=7)
    assert canonical.normalise(
        {"at": moment, "id": ident, "ratio": 0.1, "tags": ("a",), "set": {2, 1}}
    ) == {
        "at": "2026-12-01T12:00:00.123456+00:00",
        "id": str(ident),
        "ratio": "0.1",
        "tags": ["a"],
        "set": [1, 2],
    }
    with pytest.raises(TypeError, match="cannot hold a bytes"):
        canonical.normalise({"raw": b"x"})


def content(**changes: Any) -> Content:
    base: dict[str, Any] = {
        "id": 1,
        "at": datetime(2026, 12, 1, tzinfo=UTC),
        "action": "test.event",
        "actor": "tester",
        "subject": None,
        "ip": None,
        "details": {"n": 1},
    }
    return Content(**{**base, **changes})


@pytest.mark.parametrize(
    "change",
    [
        {"id": 2},
        {"at": datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)},
        {"action": "test.other"},
        {"actor": "someone"},
        {"subject": "thing:1"},
        {"ip": "10.0.0.1"},
        {"details": {"n": 2}},
    ],
)
def test_every_field_is_covered_by_the_hash(change: dict[str, Any]) -> None:
    assert entry_hash(content(), seq=1, prev_hash=GENESIS) != entry_hash(
        content(**change), seq=1, prev_hash=GENESIS
    )
    assert entry_hash(content(), seq=1, prev_hash=GENESIS) != entry_hash(
        content(), seq=2, prev_hash=GENESIS
    )


def test_a_signed_checkpoint_verifies_and_any_change_to_it_does_not() -> None:
    key = signing.private_key(signing.DEV_SIGNING_KEY)
    keys = {signing.key_id(key): key.public_key()}
    signed = signing.sign(
        key,
        service="svc",
        chain_id="c" * 64,
        seq=10,
        head_hash="a" * 64,
        signed_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert signing.signature_valid(signed, keys)
    assert signing.signature_valid(signing.Checkpoint.from_json(signed.to_json()), keys)
    for forged in (
        signing.Checkpoint(**{**signed.__dict__, "seq": 11}),
        signing.Checkpoint(**{**signed.__dict__, "head_hash": "b" * 64}),
        signing.Checkpoint(**{**signed.__dict__, "signature": "AAAA"}),
    ):
        assert not signing.signature_valid(forged, keys)
    assert not signing.signature_valid(signed, {})
