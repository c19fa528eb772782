"""`CurrentUser` and its role-restricted variants."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from session_api.auth import service as auth_service
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.dependencies import SessionDep, SettingsDep
from session_api.models import User, UserRole
from shared.schemas import Text

bearer = HTTPBearer(auto_error=False, description="An access token from POST /v1/auth/login.")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def get_current_user(
    session: SessionDep, settings: SettingsDep, credentials: BearerDep
) -> User:
    if credentials is None:
        raise NotAuthenticated(
            "log in and send the access token as 'Authorization: Bearer <token>'"
        )
    return await auth_service.authenticate(
        session, settings=settings, token=credentials.credentials
    )


async def get_stream_user(
    session: SessionDep,
    settings: SettingsDep,
    credentials: BearerDep,
    access_token: Annotated[
        Text | None,
        Query(max_length=4096, description="For browsers' EventSource, which cannot send headers."),
    ] = None,
) -> User:
    token = credentials.credentials if credentials is not None else access_token
    if not token:
        raise NotAuthenticated("send the access token as a Bearer header or ?access_token=")
    return await auth_service.authenticate(session, settings=settings, token=token)


CurrentUser = Annotated[User, Depends(get_current_user)]
StreamUser = Annotated[User, Depends(get_stream_user)]


def _require(*roles: UserRole) -> object:
    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            allowed = " or ".join(role.value for role in roles)
            raise RoleRequired(f"only a {allowed} account may do this; yours is {user.role.value}")
        return user

    return Depends(check)


CurrentClient = Annotated[User, _require(UserRole.client)]
CurrentTherapist = Annotated[User, _require(UserRole.therapist)]
CurrentAdmin = Annotated[User, _require(UserRole.admin)]
# Staff see and act on payments and reconciliation exceptions; admins can do all staff can.
CurrentStaff = Annotated[User, _require(UserRole.staff, UserRole.admin)]
