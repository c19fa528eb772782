"""Ed25519 signatures over checkpoints: a checkpoint says "the chain of `service` had `seq` rows
ending in `head_hash` at `signed_at`", and only the holder of the signing key can say it."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shared.audit import canonical

# The development key (a 32-byte Ed25519 seed, base64). Anyone can read it here, so settings
# refuse it outside development.
DEV_SIGNING_KEY = "vyae9+Yb/7WPRoXYBXX31gn98i5uQ4QBQBjEjjcsGo4="
ALGORITHM = "Ed25519"


class InvalidKey(ValueError):
    """A key that is not what a key setting expects."""


def _b64(value: str, *, what: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as e:
        raise InvalidKey(f"{what} must be base64") from e
    if len(raw) != 32:
        raise InvalidKey(f"{what} must be 32 bytes (base64 of 44 characters); got {len(raw)}")
    return raw


def private_key(seed_b64: str) -> Ed25519PrivateKey:
    """The signing key from its base64 32-byte seed."""
    return Ed25519PrivateKey.from_private_bytes(_b64(seed_b64, what="an audit signing key"))


def public_key(raw_b64: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_b64(raw_b64, what="an audit public key"))


def public_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A short fingerprint naming the key a checkpoint was signed with."""
    raw = base64.b64decode(public_b64(key))
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the chain's head."""

    service: str
    chain_id: str
    seq: int
    head_hash: str
    signed_at: datetime
    key_id: str
    signature: str

    def message(self) -> bytes:
        return signed_message(
            service=self.service,
            chain_id=self.chain_id,
            seq=self.seq,
            head_hash=self.head_hash,
            signed_at=self.signed_at,
            key_id=self.key_id,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["signed_at"] = canonical.moment(self.signed_at)
        data["algorithm"] = ALGORITHM
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(
            service=str(data["service"]),
            chain_id=str(data["chain_id"]),
            seq=int(data["seq"]),
            head_hash=str(data["head_hash"]),
            signed_at=datetime.fromisoformat(str(data["signed_at"])),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )


def signed_message(
    *, service: str, chain_id: str, seq: int, head_hash: str, signed_at: datetime, key_id: str
) -> bytes:
    return b"audit-checkpoint/1\n" + canonical.dumps(
        {
            "service": service,
            "chain_id": chain_id,
            "seq": seq,
            "head_hash": head_hash,
            "signed_at": signed_at,
            "key_id": key_id,
        }
    )


def sign(
    key: Ed25519PrivateKey,
    *,
    service: str,
    chain_id: str,
    seq: int,
    head_hash: str,
    signed_at: datetime,
) -> Checkpoint:
    kid = key_id(key)
    message = signed_message(
        service=service,
        chain_id=chain_id,
        seq=seq,
        head_hash=head_hash,
        signed_at=signed_at,
        key_id=kid,
    )
    return Checkpoint(
        service=service,
        chain_id=chain_id,
        seq=seq,
        head_hash=head_hash,
        signed_at=signed_at,
        key_id=kid,
        signature=base64.b64encode(key.sign(message)).decode(),
    )


def signature_valid(checkpoint: Checkpoint, keys: dict[str, Ed25519PublicKey]) -> bool:
    """The checkpoint was signed by one of `keys` (by key id) and says what it was signed as."""
    key = keys.get(checkpoint.key_id)
    if key is None:
        return False
    try:
        key.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.message())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
