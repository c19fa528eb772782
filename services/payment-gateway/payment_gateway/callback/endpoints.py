"""`POST /v1/callbacks/stk/{token}`: Daraja's STK callbacks."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request, Response

from payment_gateway import metrics
from payment_gateway.callback import network, service
from payment_gateway.callback.exceptions import (
    CallbackSourceRefused,
    CallbackTooLarge,
    UnknownCallback,
)
from payment_gateway.callback.schemas import CallbackAck
from payment_gateway.dependencies import SettingsDep
from shared.errors import responses

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])

ACK = CallbackAck().model_dump_json(by_alias=True).encode()


@router.post(
    "/stk/{token}",
    response_model=CallbackAck,
    response_model_by_alias=True,
    responses=responses(UnknownCallback, CallbackSourceRefused, CallbackTooLarge),
)
async def stk_callback(token: str, request: Request, settings: SettingsDep) -> Response:
    """Receive an STK callback: stored, handed to the worker, acknowledged."""
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
    # Stored for good (one autocommitted statement) before anything acts on it; a worker hears of
    # it once it is committed.
    await service.receive(
        request.app.state.callback_store,
        token=token,
        body=body,
        source_ip=source,
        settings=settings,
    )
    return Response(content=ACK, media_type="application/json")
