"""One service's audit trail: recording, chaining, checkpoints, verification and archiving.
Each service builds one `Trail` over its own models (`<service>/audit/service.py`) and calls
these with the session of its unit of work; nothing here commits."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession

from shared import jobs
from shared.audit import archive as archive_file
from shared.audit import canonical, signing
from shared.audit.chain import GENESIS, Content, entry_hash
from shared.audit.models import ARCHIVED
from shared.audit.repository import AuditRepository
from shared.audit.schemas import BrokenRowOut, CheckpointOut, VerifyReport
from shared.audit.settings import AuditSettings
from shared.audit.verify import ArchiveMark, ChainVerifier, check_checkpoints, read_checkpoint_lines
from shared.db import utcnow

log = structlog.get_logger(__name__)

CHAIN_TASK = "audit.chain"
ARCHIVE_MAX_ROWS = 100_000
VERIFY_PAGE = 1000


@dataclass(frozen=True)
class Trail:
    """A service's trail: its name (in checkpoints and archive files) and its repository."""

    service: str
    repository: type[AuditRepository[Any]]

    @property
    def lock_key(self) -> int:
        """The advisory lock of this trail's chainer: distinct per service, as the services may
        share one database."""
        digest = hashlib.sha256(f"audit-chain:{self.service}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def repo(self, session: AsyncSession) -> AuditRepository[Any]:
        return self.repository.from_session(session)


async def record(
    trail: Trail,
    session: AsyncSession,
    *,
    action: str,
    actor: str,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> Any:
    """Add an entry in the caller's transaction (it exists only if that commits) and have it
    chained soon after the commit."""
    repository = trail.repo(session)
    entry = repository.model(
        at=utcnow(),
        action=action,
        actor=actor,
        subject=subject,
        ip=ip,
        details=canonical.normalise(details or {}),
    )
    await repository.create(entry)
    _schedule_chain(session)
    return entry


def _schedule_chain(session: AsyncSession) -> None:
    """One chain job per second at most: the job of second T runs at T+1 or later, so it finds
    every row committed during T (the job id is free again once it has run)."""
    if any(job.name == CHAIN_TASK for job in jobs.pending(session)):
        return
    bucket = int(datetime.now(UTC).timestamp()) + 1
    jobs.enqueue_after_commit(
        session,
        CHAIN_TASK,
        _job_id=f"{CHAIN_TASK}:{bucket}",
        _defer_until=datetime.fromtimestamp(bucket, UTC),
    )


async def chain(trail: Trail, session: AsyncSession, *, batch_size: int) -> int:
    """Link every committed unchained row, in id order, after the current head. The advisory
    lock makes this the only writer of the chain until the transaction ends. Returns how many
    rows were linked."""
    await session.flush()
    repository = trail.repo(session)
    await repository.lock_chain(trail.lock_key)
    head = await repository.head()
    seq, prev = (head.seq, head.hash) if head is not None else (0, GENESIS)
    linked = 0
    while rows := await repository.unchained(batch_size):
        for row in rows:
            seq += 1
            row.seq, row.prev_hash = seq, prev
            row.hash = entry_hash(Content.of(row), seq=seq, prev_hash=prev)
            prev = row.hash
        await session.flush()
        linked += len(rows)
    if linked:
        log.debug("audit_chained", service=trail.service, rows=linked, head_seq=seq)
    return linked


async def chain_id(repository: AuditRepository[Any]) -> str | None:
    """The chain's identity: the hash of its first row (kept by the archive once that row is
    archived)."""
    first = await repository.by_seq(1)
    if first is not None:
        return str(first.hash)
    mark = await repository.latest_archive()
    if mark is not None and mark.details.get("chain_id"):
        return str(mark.details["chain_id"])
    earliest = await repository.first_chained()
    return str(earliest.hash) if earliest is not None else None


async def checkpoint(
    trail: Trail, session: AsyncSession, *, settings: AuditSettings, now: datetime | None = None
) -> signing.Checkpoint | None:
    """Sign the committed head (run it in a unit of work of its own, after chaining), store the
    checkpoint and write it outside the database: the log stream and the checkpoint file.
    None when the head has not moved since the last checkpoint."""
    repository = trail.repo(session)
    await repository.lock_chain(trail.lock_key)
    head = await repository.head()
    if head is None:
        return None
    last = await repository.last_checkpoint()
    if last is not None and last.seq == head.seq and last.head_hash == head.hash:
        return None
    identity = await chain_id(repository)
    signed = signing.sign(
        signing.private_key(settings.AUDIT_SIGNING_KEY.get_secret_value()),
        service=trail.service,
        chain_id=identity or head.hash,
        seq=head.seq,
        head_hash=head.hash,
        signed_at=now or utcnow(),
    )
    await repository.add_checkpoint(
        repository.checkpoint_model(
            chain_id=signed.chain_id,
            seq=signed.seq,
            head_hash=signed.head_hash,
            signed_at=signed.signed_at,
            key_id=signed.key_id,
            signature=signed.signature,
        )
    )
    log.info("audit_checkpoint", checkpoint=signed.to_json())
    await asyncio.to_thread(_append_line, settings.audit_checkpoint_path, signed.to_json())
    return signed


def _append_line(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def _trusted_keys(settings: AuditSettings) -> dict[str, Ed25519PublicKey]:
    current = signing.private_key(settings.AUDIT_SIGNING_KEY.get_secret_value()).public_key()
    keys = [current, *(signing.public_key(k) for k in settings.AUDIT_TRUSTED_PUBLIC_KEYS)]
    return {signing.key_id(key): key for key in keys}


def _external_checkpoints(trail: Trail, path: Path) -> tuple[list[signing.Checkpoint], list[str]]:
    if not path.exists():
        return [], []
    found, problems = read_checkpoint_lines(path.read_text(encoding="utf-8").splitlines())
    return [c for c in found if c.service == trail.service], problems


async def verify(
    trail: Trail,
    session: AsyncSession,
    *,
    settings: AuditSettings,
    from_seq: int | None = None,
    from_time: datetime | None = None,
) -> VerifyReport:
    """Recompute the chain (from the start, or from `from_seq` / the first row at `from_time`)
    and check every checkpoint, in the database and in the checkpoint file."""
    repository = trail.repo(session)
    mark = await _archive_mark(repository)
    if from_time is not None:
        from_seq = await repository.first_seq_at_or_after(from_time)
        if from_seq is None:  # nothing recorded since: only checkpoints past the head remain
            head = await repository.head()
            from_seq = head.seq + 1 if head is not None else 1
    verifier = await _start(repository, from_seq=from_seq, mark=mark)
    start = from_seq or 0
    stored = await _stored_checkpoints(trail, repository)
    external, file_problems = await asyncio.to_thread(
        _external_checkpoints, trail, settings.audit_checkpoint_path
    )
    verifier.watched = {c.seq for c in stored + external}
    cursor = verifier.expected_seq
    while rows := await repository.chained_page(from_seq=cursor, limit=VERIFY_PAGE):
        for row in rows:
            verifier.feed(row)
        cursor = int(rows[-1].seq) + 1
    checked = check_checkpoints(
        stored=stored,
        external=external,
        chain_id=await chain_id(repository),
        verifier=verifier,
        from_seq=start,
        archive=mark,
        keys=_trusted_keys(settings),
    )
    broken = verifier.broken
    problems = [f"row {b.seq} (id {b.id}): {b.reason}" for b in broken]
    problems += checked.problems + file_problems
    last = checked.last
    return VerifyReport(
        service=trail.service,
        ok=not problems,
        rows_checked=verifier.rows,
        first_seq=verifier.first_seq,
        last_seq=verifier.last_seq,
        head_hash=verifier.last_hash,
        unchained=await repository.count_unchained(),
        first_broken=BrokenRowOut(seq=broken[0].seq, id=broken[0].id, reason=broken[0].reason)
        if broken
        else None,
        broken_rows=verifier.broken_count,
        checkpoints_checked=checked.checked,
        last_checkpoint=CheckpointOut(
            seq=last.seq, head_hash=last.head_hash, signed_at=last.signed_at, key_id=last.key_id
        )
        if last is not None
        else None,
        problems=problems,
    )


async def _archive_mark(repository: AuditRepository[Any]) -> ArchiveMark | None:
    """Where the archived rows end, as the latest `audit.archived` entry recorded it."""
    row = await repository.latest_archive()
    if row is None:
        return None
    return ArchiveMark(
        to_seq=int(row.details["to_seq"]),
        last_hash=str(row.details["last_hash"]),
        file=str(row.details["file"]),
    )


async def _stored_checkpoints(
    trail: Trail, repository: AuditRepository[Any]
) -> list[signing.Checkpoint]:
    return [
        signing.Checkpoint(
            service=trail.service,
            chain_id=c.chain_id,
            seq=c.seq,
            head_hash=c.head_hash,
            signed_at=c.signed_at,
            key_id=c.key_id,
            signature=c.signature,
        )
        for c in await repository.checkpoints()
    ]


async def _start(
    repository: AuditRepository[Any], *, from_seq: int | None, mark: ArchiveMark | None
) -> ChainVerifier:
    """Where checking starts: the row before `from_seq` (trusted as stored), the archive's last
    hash when the oldest rows were archived, or the genesis hash."""
    if from_seq:
        before = await repository.by_seq(from_seq - 1) if from_seq > 1 else None
        prev = before.hash if before is not None else (GENESIS if from_seq == 1 else None)
        return ChainVerifier(expected_seq=from_seq, expected_prev=prev)
    first = await repository.first_chained()
    if first is not None and mark is not None and first.seq == mark.to_seq + 1:
        return ChainVerifier(expected_seq=first.seq, expected_prev=mark.last_hash)
    return ChainVerifier()


async def archive(
    trail: Trail,
    session: AsyncSession,
    *,
    settings: AuditSettings,
    actor: str,
    now: datetime | None = None,
) -> archive_file.ArchiveFile | None:
    """Move the rows older than the retention (a prefix of the chain, never its head) to an
    archive file, then record the file's SHA-256 in the trail. Rows leave the table only after
    the file is on disk; None when nothing is old enough."""
    now = now or utcnow()
    await chain(trail, session, batch_size=settings.AUDIT_CHAIN_BATCH_SIZE)
    repository = trail.repo(session)
    head = await repository.head()
    if head is None:
        return None
    before = now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    rows = await repository.archivable(before=before, below_seq=head.seq, limit=ARCHIVE_MAX_ROWS)
    if not rows:
        return None
    identity = await chain_id(repository) or str(rows[0].hash)
    written = await asyncio.to_thread(
        archive_file.write,
        settings.audit_archive_dir,
        service=trail.service,
        chain_id=identity,
        rows=rows,
        created_at=now,
    )
    await repository.delete_through(written.to_seq)
    await record(
        trail,
        session,
        action=ARCHIVED,
        actor=actor,
        subject=f"archive:{written.path.name}",
        details={
            "file": written.path.name,
            "sha256": written.sha256,
            "from_seq": written.from_seq,
            "to_seq": written.to_seq,
            "rows": written.rows,
            "last_hash": written.last_hash,
            "chain_id": identity,
            "older_than": before,
        },
    )
    await chain(trail, session, batch_size=settings.AUDIT_CHAIN_BATCH_SIZE)
    log.info(
        "audit_archived",
        service=trail.service,
        file=str(written.path),
        sha256=written.sha256,
        rows=written.rows,
    )
    return written
