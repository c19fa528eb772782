from __future__ import annotations

import uuid

from sqlalchemy import select

from session_api.models import Notification
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
