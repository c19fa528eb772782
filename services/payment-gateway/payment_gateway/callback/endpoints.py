"""`POST /v1/callbacks/stk/{token}`: Daraja's STK callbacks."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request

from payment_gateway import metrics
from payment_gateway.callback import network, service
from payment_gateway.callback.exceptions import (
    CallbackSourceRefused,
    CallbackTooLarge,
    UnknownCallback,
)
from payment_gateway.callback.schemas import CallbackAck
from payment_gateway.dependencies import SessionDep, SettingsDep
from shared.db import utcnow
from shared.errors import responses
from shared.worker import discard_pending_jobs

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])


@router.post(
    "/stk/{token}",
    response_model=CallbackAck,
    response_model_by_alias=True,
    responses=responses(UnknownCallback, CallbackSourceRefused, CallbackTooLarge),
)
async def stk_callback(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> CallbackAck:
    """Receive an STK callback: stored first, acknowledged, applied to its payment."""
    peer = request.client.host if request.client else None
    source = network.client_address(
        peer, request.headers.get("x-forwarded-for"), trusted_hops=settings.TRUSTED_PROXY_HOPS
    )
    if not network.is_allowed(source, tuple(settings.CALLBACK_ALLOWED_CIDRS)):
        metrics.CALLBACKS.labels("refused_source").inc()
        log.warning("callback_source_refused", source_ip=source)
        raise CallbackSourceRefused(
            f"callbacks are accepted only from {', '.join(settings.CALLBACK_ALLOWED_CIDRS)}"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.CALLBACK_MAX_BYTES:
        raise CallbackTooLarge(f"callback bodies are at most {settings.CALLBACK_MAX_BYTES} bytes")
    body = await request.body()
    if len(body) > settings.CALLBACK_MAX_BYTES:
        raise CallbackTooLarge(f"callback bodies are at most {settings.CALLBACK_MAX_BYTES} bytes")
    received = await service.receive(session, token=token, body=body, source_ip=source)
    # Stored for good before anything acts on it; Daraja does not resend.
    await session.commit()
    if received.inbox_id is None:
        return CallbackAck()
    try:
        processed = await service.process(session, inbox_id=received.inbox_id, settings=settings)
        await session.commit()
    except Exception:
        log.exception("callback_processing_failed", inbox_id=received.inbox_id)
        await session.rollback()
        discard_pending_jobs(session)
        service.schedule_processing(session, received.inbox_id)
        return CallbackAck()
    if processed is not None and processed.settled and received.received_at is not None:
        metrics.CALLBACK_TO_SETTLE.observe((utcnow() - received.received_at).total_seconds())
    return CallbackAck()
