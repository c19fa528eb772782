"""`/v1/admin/settings`: Daraja credentials, their connection test, the production readiness
checklist and the sandbox/production switch (admins only)."""

from __future__ import annotations

from fastapi import APIRouter

from session_api.auth.dependencies import CurrentAdmin
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.dependencies import GatewayDep, SessionDep, SettingsDep
from session_api.platform_settings import service
from session_api.platform_settings.exceptions import (
    CredentialsNotConfigured,
    CredentialsRefused,
    InsecureCallbackUrl,
    PasswordMismatch,
    ReadinessChecklistRed,
    SettingsUnavailable,
)
from session_api.platform_settings.schemas import (
    ActiveEnvironment,
    ConnectionTestResult,
    DarajaCredentialsUpdate,
    DarajaCredentialsView,
    DarajaSettingsView,
    EnvironmentSwitchRequest,
    PaymentEnvironment,
    ReadinessChecklist,
)
from session_api.ratelimit import RateLimiterDep
from shared.errors import responses
from shared.ratelimit import TooManyRequests

router = APIRouter(prefix="/v1/admin/settings", tags=["admin settings"])

AUTH = (NotAuthenticated, RoleRequired)


@router.get(
    "/daraja",
    response_model=DarajaSettingsView,
    responses=responses(*AUTH, SettingsUnavailable),
)
async def daraja_settings(
    admin: CurrentAdmin, session: SessionDep, gateway: GatewayDep
) -> DarajaSettingsView:
    """Both environments' Daraja credentials, every secret masked to its last 4 characters."""
    return await service.daraja_settings(session, gateway=gateway, admin=admin)


@router.put(
    "/daraja/{environment}",
    response_model=DarajaCredentialsView,
    responses=responses(*AUTH, CredentialsRefused, InsecureCallbackUrl, SettingsUnavailable),
)
async def save_daraja_credentials(
    environment: PaymentEnvironment,
    body: DarajaCredentialsUpdate,
    admin: CurrentAdmin,
    session: SessionDep,
    gateway: GatewayDep,
) -> DarajaCredentialsView:
    """Replace an environment's credentials, once Daraja has issued a token for them."""
    return await service.save_credentials(
        session, gateway=gateway, environment=environment, update=body, admin=admin
    )


@router.post(
    "/daraja/{environment}/test",
    response_model=ConnectionTestResult,
    responses=responses(*AUTH, CredentialsNotConfigured, SettingsUnavailable),
)
async def test_daraja_credentials(
    environment: PaymentEnvironment, admin: CurrentAdmin, session: SessionDep, gateway: GatewayDep
) -> ConnectionTestResult:
    """A token, then an STK Query: each step's result and latency."""
    return await service.test_credentials(
        session, gateway=gateway, environment=environment, admin=admin
    )


@router.get(
    "/readiness",
    response_model=ReadinessChecklist,
    responses=responses(*AUTH, SettingsUnavailable),
)
async def readiness(
    _: CurrentAdmin, gateway: GatewayDep, settings: SettingsDep
) -> ReadinessChecklist:
    """The production readiness checklist: every item must be ok before production."""
    return await service.readiness(gateway=gateway, settings=settings)


@router.post(
    "/environment",
    response_model=ActiveEnvironment,
    responses=responses(
        *AUTH,
        PasswordMismatch,
        ReadinessChecklistRed,
        CredentialsNotConfigured,
        SettingsUnavailable,
        TooManyRequests,
    ),
)
async def switch_environment(
    body: EnvironmentSwitchRequest,
    admin: CurrentAdmin,
    session: SessionDep,
    settings: SettingsDep,
    gateway: GatewayDep,
    limiter: RateLimiterDep,
) -> ActiveEnvironment:
    """Switch new payments to sandbox or production, with the admin's password re-entered."""
    return await service.switch_environment(
        session,
        gateway=gateway,
        settings=settings,
        limiter=limiter,
        admin=admin,
        environment=body.environment,
        password=body.password,
    )
