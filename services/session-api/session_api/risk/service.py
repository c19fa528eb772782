"""Finding suspicious activity over the last RISK_WINDOW_H hours of payment attempts and keeping
one flag per kind and subject up to date for staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.config import Settings
from session_api.models import RiskFlag, RiskKind, User
from session_api.pagination import PageParams
from session_api.risk.repository import Finding, RiskRepository

log = structlog.get_logger(__name__)


async def detect(session: AsyncSession, *, settings: Settings, now: datetime | None = None) -> int:
    """Bring every flag up to date; the number of new ones."""
    moment = now or datetime.now(UTC)
    since = moment - timedelta(hours=settings.RISK_WINDOW_H)
    repository = RiskRepository.from_session(session)
    checks: list[tuple[int, list[Finding]]] = [
        (
            settings.RISK_FAILED_PAYMENTS_PER_PHONE,
            await repository.failed_by_phone(
                since=since, threshold=settings.RISK_FAILED_PAYMENTS_PER_PHONE
            ),
        ),
        (
            settings.RISK_PHONES_PER_ACCOUNT,
            await repository.phones_by_account(
                since=since, threshold=settings.RISK_PHONES_PER_ACCOUNT
            ),
        ),
        (
            settings.RISK_ACCOUNTS_PER_PHONE,
            await repository.accounts_by_phone(
                since=since, threshold=settings.RISK_ACCOUNTS_PER_PHONE
            ),
        ),
    ]
    new = 0
    for threshold, findings in checks:
        for finding in findings:
            if await repository.upsert(
                finding, threshold=threshold, window_hours=settings.RISK_WINDOW_H, now=moment
            ):
                new += 1
                log.warning(
                    "suspicious_activity_flagged",
                    kind=finding.kind.value,
                    subject=finding.subject,
                    count=finding.count,
                )
    return new


async def flags(
    session: AsyncSession, *, kind: RiskKind | None, page: PageParams, viewer: User
) -> tuple[list[RiskFlag], int]:
    """A page of flags; staff reading them (they name accounts and masked phones) is audited."""
    result = await RiskRepository.from_session(session).listing(kind=kind, page=page)
    await audit.record(
        session,
        action="risk_flag.listed",
        actor=audit.actor_of(viewer),
        details={
            "role": viewer.role,
            "filters": {"kind": kind} if kind else {},
            "page": page.page,
            "page_size": page.page_size,
            "shown": len(result[0]),
        },
    )
    return result
