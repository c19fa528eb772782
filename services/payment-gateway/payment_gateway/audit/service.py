"""The gateway's audit trail (`shared.audit`): what other domains call to record an event,
and what the worker, the CLI and the endpoints call to chain, sign, verify, archive and list.

    await audit.record(session, action="payment.status_changed", actor=actor.name,
                       subject=f"payment:{payment.id}", details={...})

The entry is written in the caller's transaction and chained within seconds of its commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.audit.repository import AuditEntryRepository
from payment_gateway.config import Settings
from payment_gateway.models import AuditEntry
from shared.audit import trail
from shared.audit.archive import ArchiveFile
from shared.audit.repository import AuditFilters
from shared.audit.schemas import VerifyReport
from shared.audit.signing import Checkpoint
from shared.db import utcnow

TRAIL = trail.Trail(service="payment_gateway", repository=AuditEntryRepository)


async def record(
    session: AsyncSession,
    *,
    action: str,
    actor: str,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Audit an event within the caller's transaction (never a secret or a full phone)."""
    entry: AuditEntry = await trail.record(
        TRAIL, session, action=action, actor=actor, subject=subject, details=details, ip=ip
    )
    return entry


async def chain(session: AsyncSession, *, settings: Settings) -> int:
    return await trail.chain(TRAIL, session, batch_size=settings.AUDIT_CHAIN_BATCH_SIZE)


async def checkpoint(
    session: AsyncSession, *, settings: Settings, now: datetime | None = None
) -> Checkpoint | None:
    return await trail.checkpoint(TRAIL, session, settings=settings, now=now)


async def verify(
    session: AsyncSession,
    *,
    settings: Settings,
    from_seq: int | None = None,
    from_time: datetime | None = None,
) -> VerifyReport:
    return await trail.verify(
        TRAIL, session, settings=settings, from_seq=from_seq, from_time=from_time
    )


async def archive(
    session: AsyncSession, *, settings: Settings, actor: str, now: datetime | None = None
) -> ArchiveFile | None:
    return await trail.archive(TRAIL, session, settings=settings, actor=actor, now=now)


async def health(session: AsyncSession) -> tuple[int, float]:
    """Entries waiting for the chainer, and how long the oldest chained entry no checkpoint
    covers has waited (0 when all are covered): an alert on either catches a chainer or a
    signer that stopped running, without firing on a quiet system."""
    repository = AuditEntryRepository.from_session(session)
    last = await repository.last_checkpoint()
    unsigned = (
        await repository.by_seq(last.seq + 1)
        if last is not None
        else await repository.first_chained()
    )
    age = (utcnow() - unsigned.at).total_seconds() if unsigned is not None else 0.0
    return await repository.count_unchained(), max(age, 0.0)


async def search(
    session: AsyncSession, *, filters: AuditFilters, before_id: int | None, limit: int
) -> list[AuditEntry]:
    """Entries matching the filters, newest first, older than `before_id` when given."""
    return await AuditEntryRepository.from_session(session).page(
        filters, before_id=before_id, limit=limit
    )
