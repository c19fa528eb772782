"""The `ServiceDep` dependency every service route declares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from payment_gateway.auth.service import Principal, authenticate
from payment_gateway.config import Settings
from shared.ratelimit import Rule, limiter_of

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ServiceKey",
    description="A service API key from GATEWAY_API_KEYS.",
)


async def service_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    settings: Settings = request.app.state.settings
    principal = authenticate(credentials.credentials if credentials else None, settings=settings)
    await limiter_of(request).hit(
        Rule("service-key", settings.SERVICE_KEY_RATE_LIMIT, "requests with this service key"),
        principal.name,
    )
    return principal


ServiceDep = Annotated[Principal, Depends(service_principal)]
