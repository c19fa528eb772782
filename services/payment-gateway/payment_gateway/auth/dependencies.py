"""The `ServiceDep` dependency every service route declares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from payment_gateway.auth.service import Principal, authenticate

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ServiceKey",
    description="A service API key from GATEWAY_API_KEYS.",
)


async def service_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return authenticate(
        credentials.credentials if credentials else None, settings=request.app.state.settings
    )


ServiceDep = Annotated[Principal, Depends(service_principal)]
