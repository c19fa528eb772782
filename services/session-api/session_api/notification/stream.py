"""A user's in-app notifications, live: each is published once the transaction that wrote it
commits, and streamed to the user's open pages."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

from redis.asyncio import Redis

from session_api import pubsub
from session_api.config import Settings
from session_api.notification.schemas import NotificationOut
from session_api.notification.service import stream_channel


async def updates(
    *, redis: Redis, settings: Settings, user_id: uuid.UUID
) -> AsyncIterator[NotificationOut]:
    """Each new notification until `SSE_MAX_DURATION_S` (clients reconnect; the list endpoint
    has anything missed in between)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.SSE_MAX_DURATION_S
    async with pubsub.subscription(redis, stream_channel(user_id)) as subscription:
        while (left := deadline - loop.time()) > 0:
            message = await subscription.get_message(
                ignore_subscribe_messages=True, timeout=min(left, settings.SSE_RECHECK_S)
            )
            if message is not None:
                yield NotificationOut.model_validate_json(message["data"])
