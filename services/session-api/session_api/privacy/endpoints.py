"""`DELETE /v1/me` and `DELETE /v1/admin/users/{user_id}`: erase an account."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from session_api.auth.dependencies import CurrentAdmin, CurrentUser
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.dependencies import GatewayDep, SessionDep, SettingsDep
from session_api.privacy import service as privacy_service
from session_api.privacy.exceptions import (
    ErasureRefused,
    ErasureUnavailable,
    UserNotFound,
    WrongPassword,
)
from session_api.privacy.schemas import EraseMeRequest, ErasureOut
from session_api.ratelimit import RateLimiterDep
from shared.errors import responses
from shared.ratelimit import TooManyRequests

router = APIRouter(tags=["privacy"])


@router.delete(
    "/v1/me",
    response_model=ErasureOut,
    responses=responses(
        NotAuthenticated, WrongPassword, ErasureRefused, ErasureUnavailable, TooManyRequests
    ),
)
async def erase_me(
    body: EraseMeRequest,
    user: CurrentUser,
    session: SessionDep,
    gateway: GatewayDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> ErasureOut:
    """Erase your account: personal data anonymised, payments and wallet kept; irreversible."""
    return await privacy_service.erase_me(
        session,
        gateway=gateway,
        settings=settings,
        limiter=limiter,
        user=user,
        password=body.password,
    )


@router.delete(
    "/v1/admin/users/{user_id}",
    response_model=ErasureOut,
    responses=responses(
        NotAuthenticated, RoleRequired, UserNotFound, ErasureRefused, ErasureUnavailable
    ),
)
async def erase_user(
    user_id: uuid.UUID,
    admin: CurrentAdmin,
    session: SessionDep,
    gateway: GatewayDep,
    settings: SettingsDep,
) -> ErasureOut:
    """Erase an account (admins): as DELETE /v1/me, without the account's password."""
    return await privacy_service.erase_user(
        session, gateway=gateway, settings=settings, user_id=user_id, admin=admin
    )
