"""The archive file: rows past retention, written once, named by their seq range.

Format `audit-archive/1`, JSON lines: a header
`{"format", "service", "chain_id", "from_seq", "to_seq", "rows", "first_prev_hash", "last_hash",
"created_at"}`, then one canonical JSON object per row (`seq, id, at, action, actor, subject, ip,
details, prev_hash, hash`). The SHA-256 of the whole file is recorded in the trail itself (an
`audit.archived` entry), so the file can be checked against the chain that replaced it."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.audit import canonical
from shared.audit.verify import ChainVerifier

FORMAT = "audit-archive/1"


@dataclass(frozen=True)
class ArchiveFile:
    path: Path
    sha256: str
    from_seq: int
    to_seq: int
    rows: int
    last_hash: str


def file_name(service: str, from_seq: int, to_seq: int) -> str:
    return f"{service}-audit-{from_seq:012d}-{to_seq:012d}.jsonl"


def row_document(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "id": row.id,
        "at": canonical.moment(row.at),
        "action": row.action,
        "actor": row.actor,
        "subject": row.subject,
        "ip": row.ip,
        "details": row.details,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def write(
    directory: Path, *, service: str, chain_id: str, rows: Sequence[Any], created_at: datetime
) -> ArchiveFile:
    """Write the rows (a gap-free run of the chain) and return the file's SHA-256. The file is
    flushed to disk before the caller deletes the rows."""
    first, last = rows[0], rows[-1]
    header = {
        "format": FORMAT,
        "service": service,
        "chain_id": chain_id,
        "from_seq": first.seq,
        "to_seq": last.seq,
        "rows": len(rows),
        "first_prev_hash": first.prev_hash,
        "last_hash": last.hash,
        "created_at": created_at,
    }
    lines = [canonical.dumps(header)] + [canonical.dumps(row_document(row)) for row in rows]
    body = b"\n".join(lines) + b"\n"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(service, first.seq, last.seq)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    return ArchiveFile(
        path=path,
        sha256=hashlib.sha256(body).hexdigest(),
        from_seq=first.seq,
        to_seq=last.seq,
        rows=len(rows),
        last_hash=last.hash,
    )


@dataclass(frozen=True)
class _Row:
    seq: int
    id: int
    at: datetime
    action: str
    actor: str
    subject: str | None
    ip: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


def check(path: Path, *, sha256: str | None = None) -> list[str]:
    """Problems with an archive file: its hash (if the audited one is given), its header, and
    the chain of the rows inside it. Empty when it is intact."""
    body = path.read_bytes()
    problems: list[str] = []
    if sha256 is not None and hashlib.sha256(body).hexdigest() != sha256:
        problems.append(f"{path.name}: its SHA-256 is not the one recorded in the trail")
    lines = body.decode().splitlines()
    header = json.loads(lines[0])
    if header.get("format") != FORMAT:
        return [*problems, f"{path.name}: not an {FORMAT} file"]
    verifier = ChainVerifier(
        expected_seq=header["from_seq"], expected_prev=header["first_prev_hash"]
    )
    for line in lines[1:]:
        data = json.loads(line)
        data["at"] = datetime.fromisoformat(data["at"])
        verifier.feed(_Row(**data))
    problems += [f"{path.name}: row {b.seq}: {b.reason}" for b in verifier.broken]
    if verifier.last_seq != header["to_seq"] or verifier.last_hash != header["last_hash"]:
        problems.append(f"{path.name}: its rows do not end where its header says")
    return problems


__all__ = ["FORMAT", "ArchiveFile", "check", "file_name", "write"]
