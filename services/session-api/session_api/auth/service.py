"""Password hashing (argon2id), access tokens (JWT), registration and login."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NoReturn

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.auth.exceptions import InvalidCredentials, NotAuthenticated
from session_api.auth.schemas import ProfileUpdate, RegisterRequest, Token
from session_api.config import Settings
from session_api.models import User, UserRole
from session_api.user import service as user_service
from session_api.validation import normalize_email
from shared import db
from shared.ratelimit import RateLimiter, Rule, TooManyRequests


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def password_hasher(settings: Settings) -> PasswordHasher:
    return _hasher(
        settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_KIB, settings.ARGON2_PARALLELISM
    )


async def hash_password(settings: Settings, password: str) -> str:
    # argon2 is deliberately slow: run it off the event loop.
    return await asyncio.to_thread(password_hasher(settings).hash, password)


async def verify_password(settings: Settings, password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return password_hasher(settings).verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


@lru_cache(maxsize=4)
def _decoy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash("decoy password for unknown e-mails")


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    role: UserRole


def issue_token(settings: Settings, user: User, *, now: datetime | None = None) -> Token:
    issued = now or datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "role": user.role.value,
        "iss": settings.JWT_ISSUER,
        "iat": issued,
        "exp": issued + timedelta(seconds=settings.ACCESS_TOKEN_TTL_S),
        "typ": "access",
    }
    token = jwt.encode(
        claims, settings.JWT_SECRET.get_secret_value(), algorithm=settings.JWT_ALGORITHM
    )
    return Token(access_token=token, expires_in=settings.ACCESS_TOKEN_TTL_S)


def decode_token(settings: Settings, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SECRET.get_secret_value(),
            algorithms=[settings.JWT_ALGORITHM],
            issuer=settings.JWT_ISSUER,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
        if claims.get("typ") != "access":
            raise NotAuthenticated("the token is not an access token")
        return TokenClaims(user_id=uuid.UUID(claims["sub"]), role=UserRole(claims["role"]))
    except jwt.ExpiredSignatureError as e:
        raise NotAuthenticated("the access token has expired; log in again") from e
    except (jwt.InvalidTokenError, KeyError, ValueError) as e:
        raise NotAuthenticated("the access token is invalid") from e


async def register_client(
    session: AsyncSession, *, settings: Settings, request: RegisterRequest
) -> User:
    return await user_service.create_user(
        session,
        email=request.email,
        password_hash=await hash_password(settings, request.password),
        full_name=request.full_name.strip(),
        phone=request.phone,
        role=UserRole.client,
    )


def login_failures(settings: Settings) -> Rule:
    return Rule("login-failures", settings.LOGIN_FAILURE_LOCKOUT, "failed logins for this account")


async def login(
    session: AsyncSession,
    *,
    settings: Settings,
    limiter: RateLimiter,
    email: str,
    password: str,
    ip: str | None,
) -> Token:
    """A token for the right password; every attempt, either way, is audited. Failures lock the
    account's logins for a while (longer as they go on, `LOGIN_FAILURE_LOCKOUT`), whether or not
    the e-mail address has an account, so the lockout tells nothing either; a success forgets
    them."""
    try:
        normalized = normalize_email(email)
    except ValueError:
        normalized = ""
    lockout = login_failures(settings)
    account = normalized or email.strip().lower()
    await limiter.check(lockout, account)
    try:
        token = await _login(session, settings=settings, email=normalized, password=password, ip=ip)
    except InvalidCredentials:
        # The failure that fills a window is counted; the next attempt meets the lockout.
        with contextlib.suppress(TooManyRequests):
            await limiter.hit(lockout, account)
        raise
    await limiter.clear(lockout, account)
    return token


async def _login(
    session: AsyncSession, *, settings: Settings, email: str, password: str, ip: str | None
) -> Token:
    normalized = email
    user = await user_service.get_by_email(session, email=normalized) if normalized else None
    if user is None:
        # Spend the same time as a real check so response times do not reveal which e-mail
        # addresses have accounts.
        await verify_password(
            settings,
            _decoy_hash(
                settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_KIB, settings.ARGON2_PARALLELISM
            ),
            password,
        )
        await _login_failed(session, user=None, email=normalized or email, ip=ip)
    if not await verify_password(settings, user.password_hash, password) or not user.is_active:
        await _login_failed(session, user=user, email=user.email, ip=ip)
    if password_hasher(settings).check_needs_rehash(user.password_hash):
        user.password_hash = await hash_password(settings, password)
    await audit.record(
        session,
        action="auth.login_succeeded",
        actor=audit.actor_of(user),
        subject=f"user:{user.id}",
        ip=ip,
    )
    return issue_token(settings, user)


async def _login_failed(
    session: AsyncSession, *, user: User | None, email: str, ip: str | None
) -> NoReturn:
    """Record the failure and commit it before answering: the unit of work rolls back whatever
    a request that raises leaves, and a failed login must stay on record."""
    await audit.record(
        session,
        action="auth.login_failed",
        actor=audit.actor_of(user) if user is not None else "anonymous",
        subject=f"user:{user.id}" if user is not None else None,
        details={"email": audit.mask_email(email), "known_account": user is not None},
        ip=ip,
    )
    await db.commit(session)
    raise InvalidCredentials("wrong e-mail address or password")


async def authenticate(session: AsyncSession, *, settings: Settings, token: str) -> User:
    claims = decode_token(settings, token)
    user = await user_service.get_user(session, user_id=claims.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("the account behind this token no longer exists")
    return user


async def update_profile(session: AsyncSession, *, user: User, changes: ProfileUpdate) -> User:
    """Apply the fields the request gave (a `null` name is no change; a `null` phone forgets it)."""
    given = changes.model_fields_set
    return await user_service.update_profile(
        session,
        user=user,
        full_name=changes.full_name,
        phone=changes.phone,
        change_phone="phone" in given,
    )
