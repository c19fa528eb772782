"""The hash of one audit row, linked to the row before it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.audit import canonical

GENESIS = "0" * 64
# Bumped if what a row's hash covers ever changes; old rows keep verifying under their version.
VERSION = 1


@dataclass(frozen=True)
class Content:
    """What an entry says: everything its hash covers except its place in the chain."""

    id: int
    at: datetime
    action: str
    actor: str
    subject: str | None
    ip: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, row: Any) -> Content:
        return cls(
            id=row.id,
            at=row.at,
            action=row.action,
            actor=row.actor,
            subject=row.subject,
            ip=row.ip,
            details=row.details,
        )


def entry_hash(content: Content, *, seq: int, prev_hash: str) -> str:
    """SHA-256 over the canonical JSON of the row, its sequence number and the previous hash."""
    document = {
        "v": VERSION,
        "seq": seq,
        "prev_hash": prev_hash,
        "id": content.id,
        "at": canonical.moment(content.at),
        "action": content.action,
        "actor": content.actor,
        "subject": content.subject,
        "ip": content.ip,
        "details": content.details,
    }
    return hashlib.sha256(canonical.dumps(document)).hexdigest()
