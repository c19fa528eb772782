"""Admin settings of the payment platform: Daraja credentials and the sandbox/production switch
(both held by the gateway, called with the service key and the acting admin), and what
session-api keeps of the active environment: the public configuration and event handling read
it without calling the gateway."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from typing import TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.auth import service as auth_service
from session_api.config import Settings
from session_api.integrations.gateway import (
    GatewayAuthError,
    GatewayClient,
    GatewayError,
    GatewayPayment,
    GatewayRejected,
)
from session_api.integrations.gateway.schemas import (
    ActiveEnvironment,
    ConnectionTestResult,
    DarajaCredentialsView,
    DarajaSettingsView,
    ReadinessChecklist,
    ReadinessItem,
)
from session_api.models import PlatformSetting, User
from session_api.platform_settings.exceptions import (
    PASSED_ON,
    PasswordMismatch,
    ReadinessChecklistRed,
    SettingsUnavailable,
)
from session_api.platform_settings.repository import PlatformSettingRepository
from session_api.platform_settings.schemas import DarajaCredentialsUpdate, PaymentEnvironment
from shared import db
from shared.db import utcnow
from shared.ratelimit import RateLimiter, TooManyRequests

log = structlog.get_logger(__name__)

T = TypeVar("T")

PRODUCTION = "production"
# Until an admin first switches, the platform is in the gateway's default environment.
DEFAULT_ENVIRONMENT = "sandbox"


def actor_of(admin: User) -> str:
    """How the gateway's records name the admin: `user:<id>`, never an e-mail address."""
    return audit.actor_of(admin)


async def _gateway(call: Awaitable[T]) -> T:
    """The gateway's answer, or its refusal as this domain's error of the same name."""
    try:
        return await call
    except GatewayRejected as e:
        error = PASSED_ON.get(e.error or "")
        if error is not None:
            raise error(e.detail or e.message) from e
        raise SettingsUnavailable(f"the payment gateway refused: {e.detail or e.message}") from e
    except GatewayAuthError as e:
        raise SettingsUnavailable("the payment gateway refused our service key") from e
    except GatewayError as e:
        raise SettingsUnavailable(e.detail or e.message) from e


async def current(session: AsyncSession) -> PlatformSetting | None:
    return await PlatformSettingRepository.from_session(session).current()


async def payment_environment(session: AsyncSession) -> str:
    """The environment new payments are made in, as last seen from the gateway."""
    setting = await current(session)
    return setting.payment_environment if setting else DEFAULT_ENVIRONMENT


async def refuses(session: AsyncSession, *, payment: GatewayPayment) -> bool:
    """Whether an event about ``payment`` must change nothing here: a sandbox payment while the
    platform takes real money (its "money" never moved, so it credits no wallet and confirms no
    booking). A payment that names no environment predates environments and is taken."""
    if payment.environment is None or payment.environment == PRODUCTION:
        return False
    return await payment_environment(session) == PRODUCTION


async def _remember(
    session: AsyncSession, *, active: ActiveEnvironment, actor: str
) -> PlatformSetting:
    repository = PlatformSettingRepository.from_session(session)
    setting = await repository.current(for_update=True)
    if setting is None:
        setting = PlatformSetting(id=1, payment_environment=active.environment, updated_by=actor)
        await repository.create(setting)
    changed = (setting.payment_environment, setting.paybill_number) != (
        active.environment,
        active.shortcode,
    )
    if changed:
        setting.payment_environment = active.environment
        setting.paybill_number = active.shortcode
        setting.updated_by = actor
        setting.updated_at = utcnow()
    await session.flush()
    return setting


async def daraja_settings(
    session: AsyncSession, *, gateway: GatewayClient, admin: User
) -> DarajaSettingsView:
    """Both environments' credentials (masked by the gateway); the active environment kept
    here is brought in line with the gateway's on the way."""
    view = await _gateway(gateway.daraja_settings())
    active = await _gateway(gateway.environment())
    await _remember(session, active=active, actor=actor_of(admin))
    return view


async def save_credentials(
    session: AsyncSession,
    *,
    gateway: GatewayClient,
    environment: PaymentEnvironment,
    update: DarajaCredentialsUpdate,
    admin: User,
) -> DarajaCredentialsView:
    saved = await _gateway(
        gateway.save_daraja_credentials(environment, update.for_gateway(), actor=actor_of(admin))
    )
    await audit.record(
        session,
        action="settings.daraja_credentials_saved",
        actor=audit.actor_of(admin),
        subject=f"daraja_credentials:{environment}",
        details={"environment": environment},
    )
    log.info("daraja_credentials_saved", environment=environment, actor=actor_of(admin))
    return saved


async def test_credentials(
    session: AsyncSession, *, gateway: GatewayClient, environment: PaymentEnvironment, admin: User
) -> ConnectionTestResult:
    result = await _gateway(gateway.test_daraja_credentials(environment, actor=actor_of(admin)))
    await audit.record(
        session,
        action="settings.daraja_credentials_tested",
        actor=audit.actor_of(admin),
        subject=f"daraja_credentials:{environment}",
        details={"environment": environment, "ok": result.ok},
    )
    return result


def local_readiness(settings: Settings) -> list[ReadinessItem]:
    """What session-api itself needs before real money: its answers hardened for browsers."""
    return [
        ReadinessItem(
            name="session_api_security_headers",
            ok=settings.security_headers,
            detail="HSTS and the strict Content-Security-Policy are on"
            if settings.security_headers
            else "run with ENVIRONMENT=production (or SESSION_API_SECURITY_HEADERS=true)",
        )
    ]


async def readiness(*, gateway: GatewayClient, settings: Settings) -> ReadinessChecklist:
    """The gateway's checklist and session-api's own items: production needs every one ok."""
    checklist = await _gateway(gateway.readiness())
    items = [*checklist.items, *local_readiness(settings)]
    return ReadinessChecklist(ready=all(item.ok for item in items), items=items)


async def switch_environment(
    session: AsyncSession,
    *,
    gateway: GatewayClient,
    settings: Settings,
    limiter: RateLimiter,
    admin: User,
    environment: PaymentEnvironment,
    password: str,
) -> ActiveEnvironment:
    """Switch where new payments are made, once the admin has entered their password again;
    the gateway refuses production while its readiness checklist is red."""
    # Wrong passwords count with failed logins: a stolen token is no way to guess one.
    lockout = auth_service.login_failures(settings)
    await limiter.check(lockout, admin.email)
    if not await auth_service.verify_password(settings, admin.password_hash, password):
        with contextlib.suppress(TooManyRequests):
            await limiter.hit(lockout, admin.email)
        log.warning("environment_switch_refused", actor=actor_of(admin), reason="password")
        await audit.record(
            session,
            action="settings.environment_switch_refused",
            actor=audit.actor_of(admin),
            subject="payment_environment",
            details={"to": environment, "reason": "password"},
        )
        # Committed before answering: the refusal rolls the request back, its record stays.
        await db.commit(session)
        raise PasswordMismatch(
            "the password is not yours: enter your own password again to switch environments"
        )
    if environment == PRODUCTION:
        failing = [item.name for item in local_readiness(settings) if not item.ok]
        if failing:
            raise ReadinessChecklistRed(
                f"production is refused while the readiness checklist is red: {', '.join(failing)}"
            )
    previous = await payment_environment(session)
    active = await _gateway(gateway.switch_environment(environment, actor=actor_of(admin)))
    await _remember(session, active=active, actor=actor_of(admin))
    await audit.record(
        session,
        action="settings.environment_switched",
        actor=audit.actor_of(admin),
        subject="payment_environment",
        details={"from": previous, "to": active.environment},
    )
    log.info("payment_environment_switched", environment=environment, actor=actor_of(admin))
    return active
