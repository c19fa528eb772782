"""`POST /v1/callbacks/stk/{token}`: Daraja's STK callbacks."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from payment_gateway.callback import service
from payment_gateway.callback.dependencies import IncomingCallbackDep
from payment_gateway.callback.exceptions import (
    CallbackSourceRefused,
    CallbackTooLarge,
    UnknownCallback,
)
from payment_gateway.callback.schemas import CallbackAck
from payment_gateway.dependencies import SettingsDep
from shared.errors import responses
from shared.ratelimit import TooManyRequests

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])

# Encoded once: this is the hottest route, and its answer never changes (the bench measures it).
ACK = CallbackAck().model_dump_json(by_alias=True).encode()


@router.post(
    "/stk/{token}",
    response_model=CallbackAck,
    response_model_by_alias=True,
    responses=responses(UnknownCallback, CallbackSourceRefused, CallbackTooLarge, TooManyRequests),
)
async def stk_callback(
    token: str, incoming: IncomingCallbackDep, request: Request, settings: SettingsDep
) -> Response:
    """Receive an STK callback: stored, announced to the workers, acknowledged."""
    # Stored for good (one autocommitted statement) before anything acts on it.
    await service.receive(
        request.app.state.callback_store,
        token=token,
        body=incoming.body,
        source_ip=incoming.source_ip,
        settings=settings,
    )
    return Response(content=ACK, media_type="application/json")
