"""SQL of suspicious activity: counts over payment attempts, and the flags."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from session_api.models import AttemptStatus, PaymentAttempt, RiskFlag, RiskKind
from session_api.pagination import PageParams
from session_api.repository import Repository

FAILED = (AttemptStatus.failed, AttemptStatus.cancelled, AttemptStatus.timeout)


@dataclass(frozen=True)
class Finding:
    kind: RiskKind
    subject: str
    user_id: uuid.UUID | None
    count: int
    detail: dict[str, Any]


class RiskRepository(Repository[RiskFlag]):
    model = RiskFlag

    async def failed_by_phone(self, *, since: datetime, threshold: int) -> list[Finding]:
        statement = (
            select(
                PaymentAttempt.phone_hash,
                func.count(),
                func.array_agg(func.distinct(PaymentAttempt.user_id)),
                func.array_agg(func.distinct(PaymentAttempt.phone_masked)),
                func.array_agg(func.distinct(PaymentAttempt.status)),
            )
            .where(
                PaymentAttempt.phone_hash.is_not(None),
                PaymentAttempt.status.in_(FAILED),
                PaymentAttempt.created_at >= since,
            )
            .group_by(PaymentAttempt.phone_hash)
            .having(func.count() >= threshold)
        )
        return [
            Finding(
                kind=RiskKind.failed_payments_on_phone,
                subject=f"phone:{phone_hash}",
                user_id=None,
                count=count,
                detail={
                    "user_ids": sorted(str(u) for u in users),
                    "phones": sorted(phones),
                    "statuses": sorted(str(s) for s in statuses),
                },
            )
            for phone_hash, count, users, phones, statuses in await self.session.execute(statement)
        ]

    async def phones_by_account(self, *, since: datetime, threshold: int) -> list[Finding]:
        phones = func.count(func.distinct(PaymentAttempt.phone_hash))
        statement = (
            select(
                PaymentAttempt.user_id,
                phones,
                func.array_agg(func.distinct(PaymentAttempt.phone_masked)),
            )
            .where(PaymentAttempt.phone_hash.is_not(None), PaymentAttempt.created_at >= since)
            .group_by(PaymentAttempt.user_id)
            .having(phones >= threshold)
        )
        return [
            Finding(
                kind=RiskKind.phones_per_account,
                subject=f"user:{user_id}",
                user_id=user_id,
                count=count,
                detail={"user_ids": [str(user_id)], "phones": sorted(masked)},
            )
            for user_id, count, masked in await self.session.execute(statement)
        ]

    async def accounts_by_phone(self, *, since: datetime, threshold: int) -> list[Finding]:
        accounts = func.count(func.distinct(PaymentAttempt.user_id))
        statement = (
            select(
                PaymentAttempt.phone_hash,
                accounts,
                func.array_agg(func.distinct(PaymentAttempt.user_id)),
                func.array_agg(func.distinct(PaymentAttempt.phone_masked)),
            )
            .where(PaymentAttempt.phone_hash.is_not(None), PaymentAttempt.created_at >= since)
            .group_by(PaymentAttempt.phone_hash)
            .having(accounts >= threshold)
        )
        return [
            Finding(
                kind=RiskKind.accounts_per_phone,
                subject=f"phone:{phone_hash}",
                user_id=None,
                count=count,
                detail={"user_ids": sorted(str(u) for u in users), "phones": sorted(phones)},
            )
            for phone_hash, count, users, phones in await self.session.execute(statement)
        ]

    async def upsert(
        self, finding: Finding, *, threshold: int, window_hours: int, now: datetime
    ) -> bool:
        """Record the finding; True if it is a new flag (else the existing one is updated)."""
        statement = insert(RiskFlag).values(
            id=uuid.uuid4(),
            kind=finding.kind,
            subject=finding.subject,
            user_id=finding.user_id,
            count=finding.count,
            threshold=threshold,
            window_hours=window_hours,
            detail=finding.detail,
            last_seen_at=now,
            created_at=now,
            updated_at=now,
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[RiskFlag.kind, RiskFlag.subject],
            set_={
                "count": statement.excluded.count,
                "threshold": statement.excluded.threshold,
                "window_hours": statement.excluded.window_hours,
                "detail": statement.excluded.detail,
                "last_seen_at": statement.excluded.last_seen_at,
                "updated_at": statement.excluded.updated_at,
            },
        ).returning(RiskFlag.created_at == now)  # an updated flag keeps its first sighting
        created: bool = bool(await self.session.scalar(upsert))
        return created

    async def listing(
        self, *, kind: RiskKind | None, page: PageParams
    ) -> tuple[list[RiskFlag], int]:
        statement = select(RiskFlag)
        if kind is not None:
            statement = statement.where(RiskFlag.kind == kind)
        return await self.paginate(
            statement.order_by(RiskFlag.last_seen_at.desc(), RiskFlag.id), page
        )
