from __future__ import annotations

from fastapi import APIRouter, status

from session_api.audit.dependencies import ClientIpDep
from session_api.auth import service as auth_service
from session_api.auth.dependencies import CurrentUser
from session_api.auth.exceptions import InvalidCredentials, NotAuthenticated
from session_api.auth.schemas import LoginRequest, ProfileUpdate, RegisterRequest, Token
from session_api.dependencies import SessionDep, SettingsDep
from session_api.models import User
from session_api.ratelimit import LoginRateLimit, RateLimiterDep, RegisterRateLimit
from session_api.user.exceptions import EmailTaken
from session_api.user.schemas import UserOut
from shared.errors import responses
from shared.ratelimit import TooManyRequests

router = APIRouter(tags=["accounts"])


@router.post(
    "/v1/auth/register",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(EmailTaken, TooManyRequests),
    dependencies=[RegisterRateLimit],
)
async def register(body: RegisterRequest, session: SessionDep, settings: SettingsDep) -> User:
    """Create a client account."""
    return await auth_service.register_client(session, settings=settings, request=body)


@router.post(
    "/v1/auth/login",
    response_model=Token,
    responses=responses(InvalidCredentials, TooManyRequests),
    dependencies=[LoginRateLimit],
)
async def login(
    body: LoginRequest,
    session: SessionDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    ip: ClientIpDep,
) -> Token:
    """Exchange an e-mail address and password for an access token."""
    return await auth_service.login(
        session,
        settings=settings,
        limiter=limiter,
        email=body.email,
        password=body.password,
        ip=ip,
    )


@router.get("/v1/me", response_model=UserOut, responses=responses(NotAuthenticated))
async def me(user: CurrentUser) -> User:
    """The account behind the access token."""
    return user


@router.patch("/v1/me", response_model=UserOut, responses=responses(NotAuthenticated))
async def update_me(body: ProfileUpdate, user: CurrentUser, session: SessionDep) -> User:
    """Change the account's name or M-Pesa phone (the one payment forms start with)."""
    return await auth_service.update_profile(session, user=user, changes=body)
