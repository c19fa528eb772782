"""Envelope encryption: sealed bytes never show the plaintext, and everything fails closed."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_gateway.credentials import envelope
from payment_gateway.credentials.envelope import Keyring
from payment_gateway.credentials.exceptions import CredentialUnreadable, UnknownEncryptionKey

pytestmark = pytest.mark.timeout(20)

OLD = Keyring.of({"old": b"o" * 32})
BOTH = Keyring.of({"old": b"o" * 32, "new": b"n" * 32})
ROW = uuid.uuid4()


def aad(column: str, row: uuid.UUID = ROW) -> bytes:
    return envelope.associated_data("daraja_credential", row, column)


@given(st.text(min_size=1, max_size=200))
def test_a_sealed_value_opens_to_itself_and_never_contains_it(secret: str) -> None:
    key = envelope.new_data_key()
    sealed = envelope.seal(key, secret.encode(), aad=aad("passkey"))

    assert envelope.open_sealed(key, sealed, aad=aad("passkey")).decode() == secret
    if len(secret.encode()) >= 4:
        assert secret.encode() not in sealed


def test_the_newest_key_wraps_and_any_listed_key_unwraps() -> None:
    data_key = envelope.new_data_key()
    old_id, wrapped = OLD.wrap(data_key, aad=aad("data_key"))

    assert (old_id, BOTH.current_id) == ("old", "new")
    assert BOTH.unwrap(old_id, wrapped, aad=aad("data_key")) == data_key


def test_an_unknown_key_id_fails_closed() -> None:
    key_id, wrapped = BOTH.wrap(envelope.new_data_key(), aad=aad("data_key"))

    with pytest.raises(UnknownEncryptionKey, match="'new'"):
        OLD.unwrap(key_id, wrapped, aad=aad("data_key"))


@pytest.mark.parametrize("position", [0, 12, -1])
def test_one_changed_byte_fails_closed(position: int) -> None:
    key = envelope.new_data_key()
    sealed = bytearray(envelope.seal(key, b"consumer-secret", aad=aad("consumer_secret")))
    sealed[position] ^= 0x01

    with pytest.raises(CredentialUnreadable, match="integrity"):
        envelope.open_sealed(key, bytes(sealed), aad=aad("consumer_secret"))


@pytest.mark.parametrize(
    "elsewhere", [aad("passkey"), aad("consumer_secret", uuid.uuid4())], ids=["column", "row"]
)
def test_a_value_moved_to_another_column_or_row_fails_closed(elsewhere: bytes) -> None:
    key = envelope.new_data_key()
    sealed = envelope.seal(key, b"consumer-secret", aad=aad("consumer_secret"))

    with pytest.raises(CredentialUnreadable):
        envelope.open_sealed(key, sealed, aad=elsewhere)


def test_a_truncated_value_fails_closed() -> None:
    with pytest.raises(CredentialUnreadable, match="truncated"):
        envelope.open_sealed(envelope.new_data_key(), b"short", aad=aad("passkey"))
