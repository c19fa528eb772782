"""Daraja credentials managed at run time: stored encrypted, proven by Daraja before they are
saved, tested on demand, the production readiness checklist, the switch between sandbox and
production, and key rotation."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway import clients as clients_module
from payment_gateway.audit import service as audit
from payment_gateway.clients import DarajaClients
from payment_gateway.config import SANDBOX_PASSKEY
from payment_gateway.credentials import envelope
from payment_gateway.credentials.envelope import Keyring
from payment_gateway.credentials.exceptions import (
    CredentialsNotConfigured,
    CredentialsRefused,
    DarajaUnreachable,
    InsecureCallbackUrl,
    ReadinessChecklistRed,
)
from payment_gateway.credentials.repository import (
    DarajaCredentialRepository,
    GatewaySettingRepository,
)
from payment_gateway.credentials.schemas import (
    ConnectionStep,
    ConnectionTest,
    DarajaCredentialsIn,
    DarajaCredentialsOut,
    DarajaSettingsOut,
    EnvironmentOut,
    Readiness,
    ReadinessItem,
)
from payment_gateway.credentials.stored import StoredCredentials, open_row, seal_row
from payment_gateway.integrations.daraja import (
    DarajaAuthError,
    DarajaClient,
    DarajaConfig,
    DarajaError,
    DarajaRejected,
)
from payment_gateway.models import (
    SECRET_COLUMNS,
    DarajaCredential,
    DarajaEnvironment,
    GatewaySetting,
    ShortcodeType,
)
from shared.db import utcnow

PRODUCTION = DarajaEnvironment.production


def mask(value: str | None) -> str | None:
    """The last 4 characters behind asterisks; all of it hidden when that would show half."""
    if value is None:
        return None
    return "****" + value[-4:] if len(value) >= 8 else "****"


async def overview(session: AsyncSession, *, clients: DarajaClients) -> DarajaSettingsOut:
    """Both environments, secrets masked, and which one is active."""
    active = await _active(session, clients=clients)
    rows = {
        row.environment: row
        for row in await DarajaCredentialRepository.from_session(session).every()
    }
    return DarajaSettingsOut(
        active_environment=DarajaEnvironment(active),
        environments=[
            _describe(environment, rows.get(environment), active=active, clients=clients)
            for environment in DarajaEnvironment
        ],
    )


def _describe(
    environment: DarajaEnvironment,
    row: DarajaCredential | None,
    *,
    active: str,
    clients: DarajaClients,
) -> DarajaCredentialsOut:
    out = DarajaCredentialsOut(environment=environment, active=environment == active, source="none")
    if row is not None:
        stored = open_row(row, keyring=clients.keyring)
        return out.model_copy(
            update={
                "source": "stored",
                "shortcode": stored.shortcode,
                "shortcode_type": stored.shortcode_type,
                "callback_base_url": stored.callback_base_url,
                **{column: mask(stored.secret(column)) for column in SECRET_COLUMNS},
                "key_id": row.key_id,
                "updated_by": row.updated_by,
                "updated_at": row.updated_at,
                "tested_at": row.tested_at,
                "test_passed": row.test_passed,
            }
        )
    settings = clients.settings
    if environment != settings.DARAJA_ENVIRONMENT:
        return out
    till = settings.DARAJA_TRANSACTION_TYPE == "CustomerBuyGoodsOnline"
    return out.model_copy(
        update={
            "source": "settings",
            "shortcode": settings.DARAJA_SHORTCODE,
            "shortcode_type": ShortcodeType.till if till else ShortcodeType.paybill,
            "callback_base_url": settings.PUBLIC_BASE_URL,
            "consumer_key": mask(settings.DARAJA_CONSUMER_KEY.get_secret_value()),
            "consumer_secret": mask(settings.DARAJA_CONSUMER_SECRET.get_secret_value()),
            "passkey": mask(settings.DARAJA_PASSKEY.get_secret_value()),
            "initiator_name": mask(settings.RECONCILIATION_INITIATOR),
            "security_credential": mask(
                settings.RECONCILIATION_SECURITY_CREDENTIAL.get_secret_value()
            ),
        }
    )


async def save(
    session: AsyncSession,
    *,
    environment: DarajaEnvironment,
    request: DarajaCredentialsIn,
    clients: DarajaClients,
) -> DarajaCredentialsOut:
    """Store ``request`` as the credentials of ``environment`` once Daraja issued a token for
    them (nothing is stored otherwise); they replace the previous ones in every process within
    `CREDENTIALS_CACHE_TTL_S`."""
    if environment is PRODUCTION and not request.callback_base_url.startswith("https://"):
        raise InsecureCallbackUrl(
            "production callback_base_url must be https://: Daraja calls back over the internet"
        )
    candidate = StoredCredentials(
        environment=environment,
        shortcode=request.shortcode,
        shortcode_type=request.shortcode_type,
        callback_base_url=request.callback_base_url,
        consumer_key=request.consumer_key,
        consumer_secret=request.consumer_secret,
        passkey=request.passkey,
        initiator_name=request.initiator_name,
        security_credential=request.security_credential,
    )
    client = clients.client(_config(clients, candidate))
    await _prove(client, environment=environment)
    repository = DarajaCredentialRepository.from_session(session)
    row = await repository.for_environment(environment, for_update=True)
    if row is None:
        row = DarajaCredential(id=uuid.uuid4())
        await repository.create(row)
    seal_row(row, candidate, keyring=clients.keyring)
    row.updated_by = request.actor
    row.updated_at = utcnow()
    # New credentials have not passed the full test yet (a token alone does not prove the
    # passkey): the readiness checklist asks for one.
    row.tested_at = None
    row.test_passed = None
    await session.flush()
    clients.forget()
    await audit.record(
        session,
        action="settings.daraja_credentials_saved",
        actor=request.actor,
        subject=f"daraja_credentials:{environment}",
        details={"environment": environment, "key_id": row.key_id},
    )
    active = await _active(session, clients=clients)
    return _describe(environment, row, active=active, clients=clients)


def _config(clients: DarajaClients, stored: StoredCredentials) -> DarajaConfig:
    try:
        return clients_module.daraja_config(clients.settings, stored=stored)
    except ValidationError as e:
        raise CredentialsRefused(
            f"these credentials cannot reach Daraja: {e.errors()[0]['msg']}"
        ) from e


async def _prove(client: DarajaClient, *, environment: str) -> None:
    try:
        await client.fetch_new_token()
    except DarajaAuthError as e:
        raise CredentialsRefused(
            f"Daraja {environment} refused the consumer key and secret ({e.message}); "
            "nothing was saved"
        ) from e
    except DarajaError as e:
        raise DarajaUnreachable(
            f"Daraja {environment} did not issue a token ({e.message}); nothing was saved, "
            "try again"
        ) from e


async def test_connection(
    session: AsyncSession, *, environment: DarajaEnvironment, actor: str, clients: DarajaClients
) -> ConnectionTest:
    """Fetch a token, then make an STK Query (the newest payment of the environment, or a
    made-up id Daraja answers "invalid" once the credentials are accepted); each step's
    result and latency. The outcome is kept on stored credentials for the checklist."""
    clients.forget()
    client = await clients.for_environment(environment)
    token_step, token_ok = await _timed_token(client)
    steps = [token_step]
    if token_ok:
        checkout = await DarajaCredentialRepository.from_session(
            session
        ).latest_checkout_request_id(environment)
        steps.append(
            await _timed_query(
                client, checkout or clients.settings.CREDENTIALS_TEST_CHECKOUT_REQUEST_ID
            )
        )
    else:
        steps.append(
            ConnectionStep(
                name="stk_query", ok=False, latency_ms=None, detail="not tried: no token"
            )
        )
    ok = all(step.ok for step in steps)
    row = await DarajaCredentialRepository.from_session(session).for_environment(
        environment, for_update=True
    )
    if row is not None:
        row.tested_at = utcnow()
        row.test_passed = ok
    await audit.record(
        session,
        action="settings.daraja_credentials_tested",
        actor=actor,
        subject=f"daraja_credentials:{environment}",
        details={"environment": environment, "ok": ok, "stored": row is not None},
    )
    return ConnectionTest(environment=environment, ok=ok, steps=steps)


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


async def _timed_token(client: DarajaClient) -> tuple[ConnectionStep, bool]:
    started = time.perf_counter()
    try:
        fetched = await client.fetch_new_token()
    except DarajaError as e:
        detail = f"refused: {e.message}" if isinstance(e, DarajaAuthError) else e.message
        return ConnectionStep(
            name="token", ok=False, latency_ms=_elapsed_ms(started), detail=detail
        ), False
    return ConnectionStep(
        name="token",
        ok=True,
        latency_ms=_elapsed_ms(started),
        detail=f"token issued, valid {int(fetched.expires_in_s)} s",
    ), True


async def _timed_query(client: DarajaClient, checkout_request_id: str) -> ConnectionStep:
    started = time.perf_counter()
    try:
        result = await client.stk_query(checkout_request_id)
    except DarajaRejected as e:
        # An unknown CheckoutRequestID is refused only after the shortcode and password
        # (passkey) were accepted: the credentials work.
        accepted = "CheckoutRequestID" in e.message
        return ConnectionStep(
            name="stk_query",
            ok=accepted,
            latency_ms=_elapsed_ms(started),
            detail=f"Daraja answered {e.error_code or e.http_status}: {e.message}",
        )
    except DarajaError as e:
        return ConnectionStep(
            name="stk_query", ok=False, latency_ms=_elapsed_ms(started), detail=e.message
        )
    return ConnectionStep(
        name="stk_query",
        ok=True,
        latency_ms=_elapsed_ms(started),
        detail=f"Daraja answered result code {result.result_code}: {result.result_desc}",
    )


async def readiness(session: AsyncSession, *, clients: DarajaClients) -> Readiness:
    """The checklist for production, each item with what fixes it."""
    settings = clients.settings
    row = await DarajaCredentialRepository.from_session(session).for_environment(PRODUCTION)
    stored = open_row(row, keyring=clients.keyring) if row is not None else None
    tested = row is not None and bool(row.test_passed) and row.tested_at is not None
    items = [
        ReadinessItem(
            name="production_credentials_stored",
            ok=stored is not None,
            detail="stored, encrypted"
            if stored
            else "store them with PUT /v1/admin/settings/daraja/production",
        ),
        ReadinessItem(
            name="production_credentials_tested",
            ok=tested,
            detail="the last connection test passed"
            if tested
            else "run POST /v1/admin/settings/daraja/production/test until it passes",
        ),
        ReadinessItem(
            name="production_passkey_not_sandbox",
            ok=stored is not None and stored.passkey != SANDBOX_PASSKEY,
            detail="the passkey is Safaricom's public sandbox passkey"
            if stored and stored.passkey == SANDBOX_PASSKEY
            else ("a production passkey" if stored else "no production credentials"),
        ),
        ReadinessItem(
            name="callback_base_url_https",
            ok=stored is not None and stored.callback_base_url.startswith("https://"),
            detail=stored.callback_base_url if stored else "no production credentials",
        ),
        ReadinessItem(
            name="callbacks_verified",
            ok=bool(settings.CALLBACK_ALLOWED_CIDRS) or settings.CALLBACK_CONFIRM_BY_QUERY,
            detail="callbacks are believed only from GATEWAY_CALLBACK_ALLOWED_CIDRS or once "
            "STK Query confirms them"
            if settings.CALLBACK_ALLOWED_CIDRS or settings.CALLBACK_CONFIRM_BY_QUERY
            else "set GATEWAY_CALLBACK_ALLOWED_CIDRS or GATEWAY_CALLBACK_CONFIRM_BY_QUERY=true",
        ),
        ReadinessItem(
            name="encryption_key_not_development",
            ok=not settings.uses_dev_encryption_key,
            detail="add a key of your own to GATEWAY_ENCRYPTION_KEYS, drop the dev key and "
            "run `rotate-keys`"
            if settings.uses_dev_encryption_key
            else f"credentials are wrapped by key {clients.keyring.current_id!r}",
        ),
        ReadinessItem(
            name="credentials_under_current_key",
            ok=row is None or row.key_id == clients.keyring.current_id,
            detail="run `python -m payment_gateway.cli rotate-keys`"
            if row is not None and row.key_id != clients.keyring.current_id
            else "every stored credential is under the newest key",
        ),
    ]
    return Readiness(ready=all(item.ok for item in items), items=items)


async def current_environment(session: AsyncSession, *, clients: DarajaClients) -> EnvironmentOut:
    setting = await GatewaySettingRepository.from_session(session).current()
    environment = setting.daraja_environment if setting else clients.settings.DARAJA_ENVIRONMENT
    config = await clients.config(environment)
    till = config is not None and config.transaction_type == "CustomerBuyGoodsOnline"
    return EnvironmentOut(
        environment=DarajaEnvironment(environment),
        shortcode=config.shortcode if config else None,
        shortcode_type=(ShortcodeType.till if till else ShortcodeType.paybill) if config else None,
        updated_by=setting.updated_by if setting else None,
        updated_at=setting.updated_at if setting else None,
    )


async def switch(
    session: AsyncSession,
    *,
    environment: DarajaEnvironment,
    actor: str,
    clients: DarajaClients,
) -> EnvironmentOut:
    """Make ``environment`` the one new payments are made in. Production only with every
    checklist item green; back to sandbox whenever it has credentials. Payments already made
    keep their own environment."""
    if environment is PRODUCTION:
        checklist = await readiness(session, clients=clients)
        if not checklist.ready:
            failing = ", ".join(item.name for item in checklist.items if not item.ok)
            raise ReadinessChecklistRed(
                f"production is refused while the readiness checklist is red: {failing}"
            )
    elif await clients.config(environment) is None:
        raise CredentialsNotConfigured(
            f"the {environment} environment has no Daraja credentials to switch to"
        )
    repository = GatewaySettingRepository.from_session(session)
    setting = await repository.current(for_update=True)
    previous = setting.daraja_environment if setting else clients.settings.DARAJA_ENVIRONMENT
    if setting is None:
        setting = GatewaySetting(id=1, daraja_environment=environment, updated_by=actor)
        await repository.create(setting)
    setting.daraja_environment = environment
    setting.updated_by = actor
    setting.updated_at = utcnow()
    await session.flush()
    clients.forget()
    await audit.record(
        session,
        action="settings.environment_switched",
        actor=actor,
        subject="daraja_environment",
        details={"from": previous, "to": environment},
    )
    return await current_environment(session, clients=clients)


async def _active(session: AsyncSession, *, clients: DarajaClients) -> str:
    setting = await GatewaySettingRepository.from_session(session).current()
    return setting.daraja_environment if setting else clients.settings.DARAJA_ENVIRONMENT


@dataclass
class Rotation:
    """What a rotation re-encrypted (or would have): rows, and values per column."""

    rows: int
    columns: dict[str, int]


async def rotate(session: AsyncSession, *, keyring: Keyring, dry_run: bool, actor: str) -> Rotation:
    """Re-encrypt every stored credential not yet under the keyring's newest key, each under a
    fresh data key. Rows already under it are left alone, so a second run changes nothing."""
    repository = DarajaCredentialRepository.from_session(session)
    due = [
        row for row in await repository.every(for_update=True) if row.key_id != keyring.current_id
    ]
    columns = {column: 0 for column in (envelope.DATA_KEY_COLUMN, *SECRET_COLUMNS)}
    for row in due:
        # Opened (which proves the old key and the bytes) before anything is rewritten.
        stored = open_row(row, keyring=keyring)
        for column in columns:
            columns[column] += 1
        if not dry_run:
            seal_row(row, stored, keyring=keyring)
    if not dry_run:
        await session.flush()
        await audit.record(
            session,
            action="settings.credentials_reencrypted",
            actor=actor,
            details={"rows": len(due), "key_id": keyring.current_id},
        )
    return Rotation(rows=len(due), columns=columns)
