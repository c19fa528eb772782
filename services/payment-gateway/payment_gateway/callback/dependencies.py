"""What the callback route checks before anything is stored: where it came from, how big it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request

from payment_gateway import metrics
from payment_gateway.callback import network
from payment_gateway.callback.exceptions import CallbackSourceRefused, CallbackTooLarge
from payment_gateway.dependencies import SettingsDep
from shared.ratelimit import Rule, limiter_of

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class IncomingCallback:
    body: bytes
    source_ip: str | None


async def incoming_callback(request: Request, settings: SettingsDep) -> IncomingCallback:
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
    await limiter_of(request).hit(
        Rule("callback-ip", settings.CALLBACK_RATE_LIMIT_PER_IP, "callbacks from this address"),
        source or "unknown",
    )
    too_large = CallbackTooLarge(f"callback bodies are at most {settings.CALLBACK_MAX_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.CALLBACK_MAX_BYTES:
        raise too_large
    body = await request.body()
    if len(body) > settings.CALLBACK_MAX_BYTES:
        raise too_large
    return IncomingCallback(body=body, source_ip=source)


IncomingCallbackDep = Annotated[IncomingCallback, Depends(incoming_callback)]
