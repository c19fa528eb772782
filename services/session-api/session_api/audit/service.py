"""session-api's audit trail (`shared.audit`): what other domains call to record an event, and
what the worker, the CLI and the admin endpoints call to chain, sign, verify, archive and list.

    await audit.record(session, action="order.status_changed", actor=audit.actor_of(admin),
                       subject=f"order:{order.id}", details={"from": ..., "to": ...})

The entry is written in the caller's transaction and chained within seconds of its commit.
Never record a secret, a password, or a phone or e-mail address in full.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit.repository import AuditEntryRepository
from session_api.audit.schemas import AdminVerifyReport
from session_api.config import Settings
from session_api.integrations.gateway import GatewayClient, GatewayError
from session_api.models import AuditEntry, User
from session_api.pagination import PageParams
from shared.audit import trail
from shared.audit.archive import ArchiveFile
from shared.audit.repository import AuditFilters
from shared.audit.schemas import VerifyReport
from shared.audit.signing import Checkpoint

log = structlog.get_logger(__name__)

TRAIL = trail.Trail(service="session_api", repository=AuditEntryRepository)


def actor_of(user: User) -> str:
    """How an account appears as an actor: `user:<id>` (ids only: names can be erased)."""
    return user_actor(user.id)


def user_actor(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


def mask_email(email: str) -> str:
    """`j***@example.com`: which account was tried, without the address itself."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


async def record(
    session: AsyncSession,
    *,
    action: str,
    actor: str,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Audit an event within the caller's transaction."""
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


async def verify_both(
    session: AsyncSession, *, settings: Settings, gateway: GatewayClient, admin: User
) -> AdminVerifyReport:
    """This service's chain and the gateway's (asked of the gateway); ok only if both verify."""
    own = await verify(session, settings=settings)
    gateway_report: VerifyReport | None = None
    gateway_error: str | None = None
    try:
        gateway_report = await gateway.verify_audit()
    except GatewayError as e:
        log.warning("gateway_audit_verify_failed", error=e.message)
        gateway_error = f"the payment gateway's trail could not be verified: {e.message}"
    ok = own.ok and gateway_report is not None and gateway_report.ok
    await record(
        session,
        action="audit.verified",
        actor=actor_of(admin),
        details={
            "ok": ok,
            "session_api_ok": own.ok,
            "gateway_ok": gateway_report.ok if gateway_report is not None else None,
        },
    )
    return AdminVerifyReport(
        ok=ok, session_api=own, gateway=gateway_report, gateway_error=gateway_error
    )


async def archive(
    session: AsyncSession, *, settings: Settings, actor: str, now: datetime | None = None
) -> ArchiveFile | None:
    return await trail.archive(TRAIL, session, settings=settings, actor=actor, now=now)


async def search(
    session: AsyncSession, *, filters: AuditFilters, page: PageParams, viewer: User
) -> tuple[list[AuditEntry], int]:
    """A page of entries, newest first; reading the trail is itself audited."""
    repository = AuditEntryRepository.from_session(session)
    result = await repository.paginate(repository.search(filters), page)
    await record(
        session,
        action="audit.listed",
        actor=actor_of(viewer),
        details={"filters": _filters(filters), "page": page.page, "page_size": page.page_size},
    )
    return result


def _filters(filters: AuditFilters) -> dict[str, Any]:
    return {key: value for key, value in vars(filters).items() if value is not None}
