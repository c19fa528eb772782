"""`/v1/settings`: Daraja credentials, the connection test, the production readiness checklist
and the active environment (session-api's admin settings call these with the service key)."""

from __future__ import annotations

from fastapi import APIRouter

from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.auth.exceptions import InvalidApiKey
from payment_gateway.credentials import service
from payment_gateway.credentials.exceptions import (
    CredentialsNotConfigured,
    CredentialsRefused,
    CredentialUnreadable,
    DarajaUnreachable,
    InsecureCallbackUrl,
    ReadinessChecklistRed,
    UnknownEncryptionKey,
)
from payment_gateway.credentials.schemas import (
    ConnectionTest,
    DarajaCredentialsIn,
    DarajaCredentialsOut,
    DarajaSettingsOut,
    EnvironmentOut,
    EnvironmentSwitch,
    Readiness,
    TestRequest,
)
from payment_gateway.dependencies import DarajaClientsDep
from payment_gateway.models import DarajaEnvironment
from shared.db import SessionDep
from shared.errors import responses

router = APIRouter(prefix="/v1/settings", tags=["settings"])

UNREADABLE = (UnknownEncryptionKey, CredentialUnreadable)


@router.get(
    "/daraja",
    response_model=DarajaSettingsOut,
    responses=responses(InvalidApiKey, *UNREADABLE),
)
async def daraja_settings(
    _: ServiceDep, session: SessionDep, clients: DarajaClientsDep
) -> DarajaSettingsOut:
    """Both environments' credentials, every secret masked to its last 4 characters."""
    return await service.overview(session, clients=clients)


@router.put(
    "/daraja/{environment}",
    response_model=DarajaCredentialsOut,
    responses=responses(
        InvalidApiKey, CredentialsRefused, InsecureCallbackUrl, DarajaUnreachable, *UNREADABLE
    ),
)
async def save_daraja_credentials(
    environment: DarajaEnvironment,
    body: DarajaCredentialsIn,
    _: ServiceDep,
    session: SessionDep,
    clients: DarajaClientsDep,
) -> DarajaCredentialsOut:
    """Replace an environment's credentials, once Daraja has issued a token for them."""
    return await service.save(session, environment=environment, request=body, clients=clients)


@router.post(
    "/daraja/{environment}/test",
    response_model=ConnectionTest,
    responses=responses(InvalidApiKey, CredentialsNotConfigured, *UNREADABLE),
)
async def test_daraja_credentials(
    environment: DarajaEnvironment,
    body: TestRequest,
    _: ServiceDep,
    session: SessionDep,
    clients: DarajaClientsDep,
) -> ConnectionTest:
    """Fetch a token and make an STK Query; each step's result and latency."""
    return await service.test_connection(
        session, environment=environment, actor=body.actor, clients=clients
    )


@router.get("/readiness", response_model=Readiness, responses=responses(InvalidApiKey, *UNREADABLE))
async def readiness(_: ServiceDep, session: SessionDep, clients: DarajaClientsDep) -> Readiness:
    """The production readiness checklist."""
    return await service.readiness(session, clients=clients)


@router.get(
    "/environment",
    response_model=EnvironmentOut,
    responses=responses(InvalidApiKey, *UNREADABLE),
)
async def environment(
    _: ServiceDep, session: SessionDep, clients: DarajaClientsDep
) -> EnvironmentOut:
    """The active environment and its shortcode."""
    return await service.current_environment(session, clients=clients)


@router.post(
    "/environment",
    response_model=EnvironmentOut,
    responses=responses(
        InvalidApiKey, ReadinessChecklistRed, CredentialsNotConfigured, *UNREADABLE
    ),
)
async def switch_environment(
    body: EnvironmentSwitch, _: ServiceDep, session: SessionDep, clients: DarajaClientsDep
) -> EnvironmentOut:
    """Switch new payments to sandbox or production (production needs a green checklist)."""
    return await service.switch(
        session, environment=body.environment, actor=body.actor, clients=clients
    )
