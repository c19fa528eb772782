from __future__ import annotations

from fastapi import APIRouter, Request

from session_api.dependencies import RedisDep, SessionDep, SettingsDep
from session_api.event import service as event_service
from session_api.event.exceptions import InvalidEventSignature, MalformedEvent
from session_api.event.schemas import EventReceipt
from shared.errors import responses

router = APIRouter(tags=["internal"])


@router.post(
    "/internal/payment-events",
    response_model=EventReceipt,
    responses=responses(InvalidEventSignature, MalformedEvent),
)
async def payment_event(
    request: Request, session: SessionDep, redis: RedisDep, settings: SettingsDep
) -> EventReceipt:
    """Receive a signed payment event from the gateway (Standard Webhooks)."""
    # The signature covers the exact bytes sent, so the raw body is verified before parsing.
    body = await request.body()
    webhook_id = event_service.authenticate(settings, headers=dict(request.headers), body=body)
    event = event_service.parse(body)
    return await event_service.receive(session, redis=redis, webhook_id=webhook_id, event=event)
