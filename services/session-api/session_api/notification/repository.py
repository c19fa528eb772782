from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from session_api.models import (
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationPreference,
)
from session_api.pagination import PageParams
from session_api.repository import Repository


class NotificationRepository(Repository[Notification]):
    model = Notification

    async def get_owned(
        self, notification_id: uuid.UUID, *, user_id: uuid.UUID
    ) -> Notification | None:
        return await self.session.scalar(
            select(Notification).where(
                Notification.id == notification_id, Notification.user_id == user_id
            )
        )

    async def for_user(
        self, user_id: uuid.UUID, *, unread_only: bool, page: PageParams
    ) -> tuple[list[Notification], int]:
        statement = select(Notification).where(Notification.user_id == user_id)
        if unread_only:
            statement = statement.where(Notification.read_at.is_(None))
        return await self.paginate(
            statement.order_by(Notification.created_at.desc(), Notification.id), page
        )


class DeliveryRepository(Repository[NotificationDelivery]):
    model = NotificationDelivery

    async def add_once(self, values: dict[str, Any]) -> uuid.UUID | None:
        """Insert the row unless its (event, recipient, channel) is already there; the new id,
        or None when it was (two writers of the same event write one row)."""
        statement = (
            insert(NotificationDelivery)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["event_key", "user_id", "channel"])
            .returning(NotificationDelivery.id)
        )
        inserted: uuid.UUID | None = await self.session.scalar(statement)
        return inserted

    async def claim(self, delivery_id: uuid.UUID, *, now: datetime) -> NotificationDelivery | None:
        """Take a due queued row for sending. A row another worker holds is skipped, not waited
        for: that worker is sending it."""
        due = (
            select(NotificationDelivery.id)
            .where(
                NotificationDelivery.id == delivery_id,
                NotificationDelivery.status == DeliveryStatus.queued,
                NotificationDelivery.next_attempt_at <= now,
            )
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(NotificationDelivery)
            .where(NotificationDelivery.id == due)
            .values(
                status=DeliveryStatus.sending,
                claimed_at=now,
                attempts=NotificationDelivery.attempts + 1,
                updated_at=now,
            )
            .returning(NotificationDelivery)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(statement)).scalars().first()

    async def due_ids(self, *, now: datetime, limit: int) -> Sequence[uuid.UUID]:
        return (
            await self.session.scalars(
                select(NotificationDelivery.id)
                .where(
                    NotificationDelivery.status == DeliveryStatus.queued,
                    NotificationDelivery.next_attempt_at <= now,
                )
                .order_by(NotificationDelivery.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()

    async def stale_sending(
        self, *, claimed_before: datetime, limit: int
    ) -> Sequence[NotificationDelivery]:
        return await self.get_all(
            select(NotificationDelivery)
            .where(
                NotificationDelivery.status == DeliveryStatus.sending,
                NotificationDelivery.claimed_at < claimed_before,
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )

    async def by_provider_message_id(self, message_id: str) -> NotificationDelivery | None:
        return await self.get_one_or_none(
            select(NotificationDelivery)
            .where(NotificationDelivery.provider_message_id == message_id)
            .with_for_update()
        )

    async def for_user(self, user_id: uuid.UUID) -> Sequence[NotificationDelivery]:
        return await self.get_all(
            select(NotificationDelivery)
            .where(NotificationDelivery.user_id == user_id)
            .order_by(NotificationDelivery.created_at.desc())
        )


class PreferenceRepository(Repository[NotificationPreference]):
    model = NotificationPreference

    async def for_user(self, user_id: uuid.UUID) -> Sequence[NotificationPreference]:
        return await self.get_all(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )

    async def disabled(self, user_id: uuid.UUID, *, topic: str, channel: str) -> bool:
        enabled = await self.session.scalar(
            select(NotificationPreference.enabled).where(
                NotificationPreference.user_id == user_id,
                NotificationPreference.topic == topic,
                NotificationPreference.channel == channel,
            )
        )
        return enabled is False

    async def put(self, user_id: uuid.UUID, *, topic: str, channel: str, enabled: bool) -> None:
        now = datetime.now(UTC)
        statement = (
            insert(NotificationPreference)
            .values(
                id=uuid.uuid4(),
                user_id=user_id,
                topic=topic,
                channel=channel,
                enabled=enabled,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_update(
                index_elements=["user_id", "topic", "channel"],
                set_={"enabled": enabled, "updated_at": now},
            )
        )
        await self.session.execute(statement)
