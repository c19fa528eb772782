"""Envelope encryption of stored secrets (AES-256-GCM).

Each row gets a random data key; the data key is stored wrapped (encrypted) by a key-encryption
key from `GATEWAY_ENCRYPTION_KEYS`, named by its id. Every value is sealed with associated data
naming its table, row and column, so bytes copied from one row or column to another fail to
open instead of decrypting to the wrong secret. Everything fails closed: an unknown key id or a
single changed byte is an error, never a guess.

Layout of a sealed value: a 12-byte random nonce, then the ciphertext with its 16-byte tag.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from payment_gateway.credentials.exceptions import CredentialUnreadable, UnknownEncryptionKey

NONCE_BYTES = 12
DATA_KEY_COLUMN = "data_key"


def associated_data(table: str, row_id: uuid.UUID, column: str) -> bytes:
    return f"gateway.{table}:{row_id}:{column}".encode()


@dataclass(frozen=True)
class Keyring:
    """The key-encryption keys by id; ``current_id`` (the last configured) wraps new data keys."""

    keys: dict[str, bytes]
    current_id: str

    @classmethod
    def of(cls, keys: dict[str, bytes]) -> Keyring:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        return cls(keys=dict(keys), current_id=list(keys)[-1])

    def _key(self, key_id: str) -> bytes:
        key = self.keys.get(key_id)
        if key is None:
            raise UnknownEncryptionKey(
                f"stored credentials are wrapped by key {key_id!r}, which is not in "
                "GATEWAY_ENCRYPTION_KEYS: add it back (the newest key stays last) and run "
                "`rotate-keys`"
            )
        return key

    def wrap(self, data_key: bytes, *, aad: bytes) -> tuple[str, bytes]:
        """The data key sealed under the current key, and that key's id."""
        return self.current_id, seal(self._key(self.current_id), data_key, aad=aad)

    def unwrap(self, key_id: str, wrapped: bytes, *, aad: bytes) -> bytes:
        return open_sealed(self._key(key_id), wrapped, aad=aad)


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, *, aad: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + 16:
        raise CredentialUnreadable("a stored credential is truncated")
    try:
        plain = AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag as e:
        # A changed byte, a value moved from another row or column, or the wrong key: the same
        # answer for each, and never the bytes themselves.
        raise CredentialUnreadable(
            "a stored credential failed its integrity check (changed, moved or under another "
            "key); store the credentials again"
        ) from e
    return plain
