"""session-api's rate limits (`shared.ratelimit`, counted in Redis, shared by every API process):
the rules built from settings and the route dependencies that apply them."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import Depends, Request

from session_api.auth.dependencies import CurrentUser
from session_api.config import Settings
from session_api.dependencies import SettingsDep
from shared.phone import normalise_phone
from shared.ratelimit import RateLimiter, Rule, TooManyRequests, client_address, limiter_of

# Where the counts live in Redis (keys `<prefix>/<window>/<rule>/<hash>`).
REDIS_PREFIX = "session_api:ratelimit"

RateLimiterDep = Annotated[RateLimiter, Depends(limiter_of)]


def login_per_ip(settings: Settings) -> Rule:
    return Rule("login-ip", settings.LOGIN_RATE_LIMIT_PER_IP, "login attempts from this address")


def register_per_ip(settings: Settings) -> Rule:
    return Rule("register-ip", settings.REGISTER_RATE_LIMIT_PER_IP, "sign-ups from this address")


def payments_per_user(settings: Settings) -> Rule:
    return Rule(
        "payment-user", settings.PAYMENT_RATE_LIMIT_PER_USER, "payment requests from your account"
    )


def payments_per_phone(settings: Settings) -> Rule:
    return Rule(
        "payment-phone", settings.PAYMENT_RATE_LIMIT_PER_PHONE, "M-Pesa prompts to this phone"
    )


async def _limit_login(request: Request, settings: SettingsDep) -> None:
    address = client_address(request, trusted_hops=settings.TRUSTED_PROXY_HOPS)
    await limiter_of(request).hit(login_per_ip(settings), address)


async def _limit_register(request: Request, settings: SettingsDep) -> None:
    address = client_address(request, trusted_hops=settings.TRUSTED_PROXY_HOPS)
    await limiter_of(request).hit(register_per_ip(settings), address)


async def _limit_payment(request: Request, user: CurrentUser, settings: SettingsDep) -> None:
    limiter = limiter_of(request)
    await limiter.hit(payments_per_user(settings), str(user.id))
    # The phone is read from the JSON body the route validates next (Starlette keeps the parsed
    # body on the request, so it is parsed once); a body without a valid phone is refused there.
    phone: Any = None
    with contextlib.suppress(ValueError):
        body = await request.json()
        phone = body.get("phone") if isinstance(body, dict) else None
    if isinstance(phone, str):
        with contextlib.suppress(ValueError):
            await limiter.hit(payments_per_phone(settings), normalise_phone(phone))


# Route dependencies, declared in `dependencies=[...]` with `TooManyRequests` in `responses=`.
LoginRateLimit = Depends(_limit_login)
RegisterRateLimit = Depends(_limit_register)
PaymentRateLimit = Depends(_limit_payment)

__all__ = [
    "LoginRateLimit",
    "PaymentRateLimit",
    "RateLimiterDep",
    "RegisterRateLimit",
    "TooManyRequests",
]
