from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from session_api.auth.dependencies import CurrentUser, StreamUser
from session_api.auth.exceptions import NotAuthenticated
from session_api.dependencies import RedisDep, SessionDep, SettingsDep
from session_api.models import Notification
from session_api.notification import delivery as notification_delivery
from session_api.notification import service as notification_service
from session_api.notification import stream as notification_stream
from session_api.notification.exceptions import (
    MalformedReport,
    NotificationNotFound,
    UnknownReportToken,
)
from session_api.notification.schemas import (
    DeliveryReportReceipt,
    NotificationOut,
    PreferencesIn,
    PreferencesOut,
)
from session_api.pagination import Page, PageDep, page_of
from shared.errors import responses

router = APIRouter(tags=["notifications"])


@router.get(
    "/v1/notifications",
    response_model=Page[NotificationOut],
    responses=responses(NotAuthenticated),
)
async def list_notifications(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    unread: Annotated[bool, Query(description="Only those not yet read.")] = False,
) -> Page[NotificationOut]:
    """Your notifications, newest first."""
    result = await notification_service.for_user(
        session, user_id=user.id, unread_only=unread, page=page
    )
    return page_of(NotificationOut, result, page)


@router.get(
    "/v1/notifications/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`notification` events, each a new notification (as in "
            "GET /v1/notifications), for `SSE_MAX_DURATION_S`; reconnect to go on.",
        },
        **responses(NotAuthenticated),
    },
)
async def stream_notifications(
    user: StreamUser, redis: RedisDep, settings: SettingsDep
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events with your new in-app notifications as they happen."""
    async for note in notification_stream.updates(redis=redis, settings=settings, user_id=user.id):
        yield ServerSentEvent(data=note, event="notification", id=str(note.id))


@router.get(
    "/v1/notifications/preferences",
    response_model=PreferencesOut,
    responses=responses(NotAuthenticated),
)
async def get_preferences(user: CurrentUser, session: SessionDep) -> PreferencesOut:
    """Which non-essential notifications you get by email and by SMS."""
    return await notification_service.get_preferences(session, user_id=user.id)


@router.put(
    "/v1/notifications/preferences",
    response_model=PreferencesOut,
    responses=responses(NotAuthenticated),
)
async def set_preferences(
    changes: PreferencesIn, user: CurrentUser, session: SessionDep
) -> PreferencesOut:
    """Turn topics of non-essential notifications on or off by channel (receipts always go)."""
    return await notification_service.set_preferences(session, user_id=user.id, changes=changes)


@router.post(
    "/v1/notifications/{notification_id}/read",
    response_model=NotificationOut,
    responses=responses(NotAuthenticated, NotificationNotFound),
)
async def mark_read(
    notification_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Notification:
    """Mark one of your notifications as read."""
    return await notification_service.mark_read(
        session, notification_id=notification_id, user_id=user.id
    )


@router.post(
    "/v1/notifications/sms/reports/{token}",
    response_model=DeliveryReportReceipt,
    responses=responses(UnknownReportToken, MalformedReport),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["id", "status"],
                        "properties": {
                            "id": {"type": "string"},
                            "status": {"type": "string"},
                            "phoneNumber": {"type": "string"},
                            "networkCode": {"type": "string"},
                            "failureReason": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def sms_delivery_report(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Path(description="SESSION_API_SMS_REPORT_TOKEN")],
) -> DeliveryReportReceipt:
    """Africa's Talking's SMS delivery report: updates the delivery's status."""
    return await notification_delivery.receive_report(
        session, settings=settings, token=token, body=await request.body()
    )
