"""Notifications are written in the same transaction as the change they announce, so one is never
sent for a change that rolled back, nor lost for one that committed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import Notification
from session_api.notification.exceptions import NotificationNotFound
from session_api.notification.repository import NotificationRepository
from session_api.pagination import PageParams


async def notify(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    data: dict[str, Any] | None = None,
) -> None:
    await NotificationRepository.from_session(session).create(
        Notification(
            id=uuid.uuid4(),
            user_id=user_id,
            kind=kind,
            title=title,
            body=body,
            data=data or {},
            created_at=datetime.now(UTC),
        )
    )


async def for_user(
    session: AsyncSession, *, user_id: uuid.UUID, unread_only: bool, page: PageParams
) -> tuple[list[Notification], int]:
    return await NotificationRepository.from_session(session).for_user(
        user_id, unread_only=unread_only, page=page
    )


async def mark_read(
    session: AsyncSession, *, notification_id: uuid.UUID, user_id: uuid.UUID
) -> Notification:
    notification = await NotificationRepository.from_session(session).get_owned(
        notification_id, user_id=user_id
    )
    if notification is None:
        raise NotificationNotFound(f"no notification {notification_id}")
    if notification.read_at is None:
        notification.read_at = datetime.now(UTC)
    return notification
