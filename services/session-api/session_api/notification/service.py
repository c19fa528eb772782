"""Notifications are written in the same transaction as the change they announce, so one is never
sent for a change that rolled back, nor lost for one that committed: the in-app note itself, and
for email and SMS a row of the outbox (`notification_delivery`) that the worker sends
(`notification.delivery`)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from session_api import pubsub
from session_api.models import Channel, DeliveryStatus, Notification, User
from session_api.notification import preferences
from session_api.notification.content import Message
from session_api.notification.exceptions import NotificationNotFound
from session_api.notification.repository import (
    DeliveryRepository,
    NotificationRepository,
    PreferenceRepository,
)
from session_api.notification.schemas import (
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
    TopicPreference,
)
from session_api.pagination import PageParams
from shared import jobs
from shared.jobs import enqueue_after_commit

DELIVER_TASK = "notification.deliver"
InApp = Literal["in_app"]
IN_APP: InApp = "in_app"


async def notify(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    data: dict[str, Any] | None = None,
) -> None:
    notification = await NotificationRepository.from_session(session).create(
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
    redis = jobs.bound(session)
    if redis is not None:
        message = NotificationOut.model_validate(notification).model_dump_json()
        pubsub.publish_after_commit(session, redis, stream_channel(user_id), message)


def stream_channel(user_id: uuid.UUID) -> str:
    return f"session_api:notifications:{user_id}"


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


async def announce(
    session: AsyncSession,
    *,
    event_key: str,
    user_id: uuid.UUID,
    message: Message,
    channels: Collection[Channel | InApp],
    receipt_attempt_id: uuid.UUID | None = None,
) -> None:
    """Tell one user about one event on each channel: in-app at once, email and SMS through the
    outbox. ``event_key`` names the event (``booking.approved:<id>``); the same event announced
    twice to the same user on the same channel is sent once. A user without a phone gets the SMS
    by email."""
    if IN_APP in channels:
        await notify(
            session,
            user_id=user_id,
            kind=message.kind,
            title=message.title,
            body=message.body,
            data=message.data,
        )
    user = await session.get(User, user_id)
    if user is None:
        return
    for channel in (Channel.sms, Channel.email):
        if channel not in channels:
            continue
        if channel is Channel.sms and not user.phone:
            channel = Channel.email
        if await _turned_off(session, user_id=user.id, kind=message.kind, channel=channel):
            continue
        await queue_delivery(
            session,
            event_key=event_key,
            user=user,
            channel=channel,
            message=message,
            receipt_attempt_id=receipt_attempt_id,
        )


async def queue_delivery(
    session: AsyncSession,
    *,
    event_key: str,
    user: User,
    channel: Channel,
    message: Message,
    receipt_attempt_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> uuid.UUID | None:
    """One outbox row and the job that sends it after commit; None when the row was there."""
    now = now or datetime.now(UTC)
    delivery_id = uuid.uuid4()
    address = user.email if channel is Channel.email else f"+{user.phone}"
    inserted = await DeliveryRepository.from_session(session).add_once(
        {
            "id": delivery_id,
            "event_key": event_key,
            "user_id": user.id,
            "channel": channel,
            "kind": message.kind,
            "address": address,
            "content": {**message.to_json(), "recipient_name": user.full_name},
            "receipt_attempt_id": receipt_attempt_id,
            "message_id": f"<{delivery_id}@{user.email.rpartition('@')[2] or 'localhost'}>",
            "status": DeliveryStatus.queued,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
    )
    if inserted is not None:
        enqueue_after_commit(session, DELIVER_TASK, str(inserted))
    return inserted


async def _turned_off(
    session: AsyncSession, *, user_id: uuid.UUID, kind: str, channel: Channel
) -> bool:
    topic = preferences.topic_of(kind)
    if topic is None:
        return False
    return await PreferenceRepository.from_session(session).disabled(
        user_id, topic=topic.value, channel=channel.value
    )


async def get_preferences(session: AsyncSession, *, user_id: uuid.UUID) -> PreferencesOut:
    rows = await PreferenceRepository.from_session(session).for_user(user_id)
    chosen = {(row.topic, row.channel): row.enabled for row in rows}
    return PreferencesOut(
        topics=[
            TopicPreference(
                topic=topic,
                description=preferences.DESCRIPTIONS[topic],
                email=chosen.get((topic.value, Channel.email.value), True),
                sms=chosen.get((topic.value, Channel.sms.value), True),
            )
            for topic in preferences.Topic
        ]
    )


async def set_preferences(
    session: AsyncSession, *, user_id: uuid.UUID, changes: PreferencesIn
) -> PreferencesOut:
    repository = PreferenceRepository.from_session(session)
    for change in changes.topics:
        for channel, enabled in ((Channel.email, change.email), (Channel.sms, change.sms)):
            if enabled is not None:
                await repository.put(
                    user_id, topic=change.topic.value, channel=channel.value, enabled=enabled
                )
    return await get_preferences(session, user_id=user_id)
