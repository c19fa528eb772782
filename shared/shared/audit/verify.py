"""Checking a chain: every row's hash recomputed, every link followed, every signed checkpoint
checked against the rows it vouches for. Pure: the caller feeds rows in seq order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from shared.audit import canonical
from shared.audit.chain import GENESIS, Content, entry_hash
from shared.audit.signing import Checkpoint, signature_valid

MAX_LISTED = 20


@dataclass(frozen=True)
class BrokenRow:
    seq: int
    id: int
    reason: str


@dataclass(frozen=True)
class ArchiveMark:
    """What the latest archive says about the rows it removed."""

    to_seq: int
    last_hash: str
    file: str


@dataclass
class ChainVerifier:
    """Feed chained rows in seq order; `broken` lists the rows that fail, first first.

    `expected_seq` / `expected_prev` say where the rows fed must continue from: seq 1 after the
    genesis hash, or (after an archive, or with `--from`) the row before the first one fed."""

    expected_seq: int = 1
    expected_prev: str | None = GENESIS
    watched: set[int] = field(default_factory=set)
    rows: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    seen: dict[int, str] = field(default_factory=dict)
    broken: list[BrokenRow] = field(default_factory=list)
    broken_count: int = 0

    def feed(self, row: Any) -> None:
        seq, stored = int(row.seq), row.hash
        reason = self._problem(row, seq)
        if reason is not None:
            self.broken_count += 1
            if len(self.broken) < MAX_LISTED:
                self.broken.append(BrokenRow(seq=seq, id=int(row.id), reason=reason))
        self.rows += 1
        self.first_seq = seq if self.first_seq is None else self.first_seq
        self.last_seq, self.last_hash = seq, stored
        if seq in self.watched:
            self.seen[seq] = stored
        # Go on from this row as stored, so one edit is reported once, not for every later row.
        self.expected_seq, self.expected_prev = seq + 1, stored

    def _problem(self, row: Any, seq: int) -> str | None:
        if seq != self.expected_seq:
            if seq > self.expected_seq:
                return (
                    f"rows {self.expected_seq} to {seq - 1} are missing: the chain jumps from "
                    f"seq {self.expected_seq - 1} to {seq}"
                )
            return f"seq {seq} repeats or goes back (expected {self.expected_seq})"
        recomputed = entry_hash(Content.of(row), seq=seq, prev_hash=row.prev_hash or "")
        if recomputed != row.hash:
            return (
                "its content was changed after it was chained: the stored hash "
                f"{_short(row.hash)} is not the hash of what the row now says "
                f"({_short(recomputed)})"
            )
        if self.expected_prev is not None and row.prev_hash != self.expected_prev:
            return (
                f"its prev_hash {_short(row.prev_hash)} is not the hash of row {seq - 1} "
                f"({_short(self.expected_prev)}): row {seq - 1} or this row was rewritten"
            )
        return None


@dataclass(frozen=True)
class CheckpointReport:
    checked: int
    problems: list[str]
    last: Checkpoint | None


def check_checkpoints(
    *,
    stored: Iterable[Checkpoint],
    external: Iterable[Checkpoint],
    chain_id: str | None,
    verifier: ChainVerifier,
    from_seq: int,
    archive: ArchiveMark | None,
    keys: dict[str, Ed25519PublicKey],
) -> CheckpointReport:
    """Each checkpoint (the database's and the external copy's, for this chain) must carry a
    valid signature and match the row it names; one naming a row past the end of the chain
    means the tail was removed; one only outside the database means its row was removed."""
    problems: list[str] = []
    stored_list = [c for c in stored if c.seq >= from_seq]
    signatures = {c.signature for c in stored_list}
    # Not filtered by chain: a chain rewritten from its first row has a new identity, and the
    # copies outside the database still name the old one.
    extra = [c for c in external if c.seq >= from_seq and c.signature not in signatures]
    for checkpoint in extra:
        problems.append(
            f"the checkpoint of seq {checkpoint.seq} signed at {_when(checkpoint)} is in the "
            "checkpoint file but not in the database: its row was removed"
        )
    everything = sorted(stored_list + extra, key=lambda c: (c.seq, c.signed_at))
    last: Checkpoint | None = None
    for checkpoint in everything:
        where = f"checkpoint of seq {checkpoint.seq} signed at {_when(checkpoint)}"
        if not signature_valid(checkpoint, keys):
            known = checkpoint.key_id in keys
            problems.append(
                f"{where}: its signature does not verify"
                + ("" if known else f" (key {checkpoint.key_id} is not a trusted key)")
            )
            continue
        if chain_id is not None and checkpoint.chain_id != chain_id:
            problems.append(f"{where}: it belongs to another chain ({_short(checkpoint.chain_id)})")
            continue
        last = checkpoint
        if archive is not None and checkpoint.seq <= archive.to_seq:
            if checkpoint.seq == archive.to_seq and checkpoint.head_hash != archive.last_hash:
                problems.append(f"{where}: the archive {archive.file} ends in another hash")
            continue
        if verifier.last_seq is None or checkpoint.seq > verifier.last_seq:
            ends = "is empty" if verifier.last_seq is None else f"ends at seq {verifier.last_seq}"
            problems.append(
                f"the chain {ends} but the {where} covers seq {checkpoint.seq}: "
                "rows were removed from its tail"
            )
            continue
        found = verifier.seen.get(checkpoint.seq)
        if found is None:
            problems.append(f"{where}: row {checkpoint.seq} is missing")
        elif found != checkpoint.head_hash:
            problems.append(
                f"{where}: row {checkpoint.seq} now ends in {_short(found)}, not the signed "
                f"{_short(checkpoint.head_hash)}: the history before it was rewritten"
            )
    return CheckpointReport(checked=len(everything), problems=problems, last=last)


def read_checkpoint_lines(lines: Iterable[str]) -> tuple[list[Checkpoint], list[str]]:
    """Checkpoints from the external JSON-lines file, and a problem for each unreadable line."""
    import json

    found: list[Checkpoint] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            found.append(Checkpoint.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            problems.append(f"line {number} of the checkpoint file is not a checkpoint")
    return found, problems


def _short(value: str | None) -> str:
    return (value or "none")[:12]


def _when(checkpoint: Checkpoint) -> str:
    return canonical.moment(checkpoint.signed_at)
