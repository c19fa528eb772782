"""`rotate-keys`: stored credentials re-encrypted under the newest key, idempotent, with a dry
run; and a change made by one process reaching another within the cache TTL."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from payment_gateway import cli, clients
from payment_gateway.config import DEV_ENCRYPTION_KEY, SANDBOX_PASSKEY, Settings
from payment_gateway.credentials.envelope import Keyring
from payment_gateway.credentials.exceptions import UnknownEncryptionKey
from payment_gateway.credentials.stored import StoredCredentials, open_row, seal_row
from payment_gateway.models import DarajaCredential, ShortcodeType
from shared import db
from shared.testing.waiting import wait_until

NEW_KEY = "k2:" + "bmV3LWtleS1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyE="
COLUMNS = (
    "key_id",
    "data_key",
    "consumer_key",
    "consumer_secret",
    "passkey",
    "initiator_name",
    "security_credential",
)
CREDENTIALS = StoredCredentials(
    environment="sandbox",
    shortcode="174379",
    shortcode_type=ShortcodeType.paybill,
    callback_base_url="https://pay.example.test",
    consumer_key="rotating-consumer-key",
    consumer_secret="rotating-consumer-secret",
    passkey=SANDBOX_PASSKEY,
    initiator_name="rotating-initiator",
    security_credential="rotating-security-credential",
)


@pytest.fixture
async def stored(clean_database: None, db_engine: AsyncEngine) -> uuid.UUID:
    """One row sealed under the development key, committed (the CLI runs its own session)."""
    sessionmaker = db.create_sessionmaker(db_engine)
    row = DarajaCredential(id=uuid.uuid4(), updated_by="test")
    seal_row(row, CREDENTIALS, keyring=Keyring.of(Settings().encryption_keys))
    async with sessionmaker() as session, db.unit_of_work(session, None):
        session.add(row)
    return row.id


async def snapshot(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT key_id, data_key, consumer_key, consumer_secret, passkey, "
                    "initiator_name, security_credential FROM gateway.daraja_credential"
                )
            )
        ).one()
    return dict(row._mapping)


def settings_with(*keys: str) -> Settings:
    return Settings(ENCRYPTION_KEYS=",".join(keys))


async def test_rotation_re_encrypts_under_the_newest_key_and_again_changes_nothing(
    stored: uuid.UUID, db_engine: AsyncEngine
) -> None:
    before = await snapshot(db_engine)
    settings = settings_with(DEV_ENCRYPTION_KEY, NEW_KEY)

    first = io.StringIO()
    await cli.rotate_keys(settings, dry_run=False, out=first)
    after_first = await snapshot(db_engine)
    second = io.StringIO()
    await cli.rotate_keys(settings, dry_run=False, out=second)

    assert "re-encrypted 1 credential rows under key 'k2'" in first.getvalue()
    assert "passkey" in first.getvalue()
    assert after_first["key_id"] == "k2"
    assert all(after_first[c] != before[c] for c in COLUMNS)
    assert "re-encrypted 0 credential rows" in second.getvalue()
    assert await snapshot(db_engine) == after_first
    async with db_engine.connect() as connection:
        audited = (
            await connection.execute(
                text(
                    "SELECT actor, details FROM gateway.audit_entry "
                    "WHERE action = 'settings.credentials_reencrypted' ORDER BY id"
                )
            )
        ).all()
    assert [(row.actor, row.details) for row in audited] == [
        ("cli", {"rows": 1, "key_id": "k2"}),
        ("cli", {"rows": 0, "key_id": "k2"}),
    ]
    # Readable with the new key alone: the old one can now be dropped.
    async with db.create_sessionmaker(db_engine)() as session:
        row = await session.get(DarajaCredential, stored)
        assert row is not None
        assert open_row(row, keyring=Keyring.of(settings_with(NEW_KEY).encryption_keys)) == (
            CREDENTIALS
        )


async def test_a_dry_run_counts_and_changes_nothing(
    stored: uuid.UUID, db_engine: AsyncEngine
) -> None:
    before = await snapshot(db_engine)
    out = io.StringIO()

    await cli.rotate_keys(settings_with(DEV_ENCRYPTION_KEY, NEW_KEY), dry_run=True, out=out)

    assert "would re-encrypt 1 credential rows" in out.getvalue()
    assert [line.split() for line in out.getvalue().splitlines()[1:]] == [
        [column, "1"] for column in COLUMNS[1:]
    ]
    assert await snapshot(db_engine) == before


async def test_rotation_without_the_old_key_fails_closed(
    stored: uuid.UUID, db_engine: AsyncEngine
) -> None:
    before = await snapshot(db_engine)

    with pytest.raises(UnknownEncryptionKey, match="not in GATEWAY_ENCRYPTION_KEYS"):
        await cli.rotate_keys(settings_with(NEW_KEY), dry_run=False, out=io.StringIO())

    assert await snapshot(db_engine) == before


async def test_another_process_sees_a_switch_within_the_cache_ttl(
    clean_database: None, db_engine: AsyncEngine, redis_client: Redis
) -> None:
    other = clients.daraja_clients(
        Settings(CREDENTIALS_CACHE_TTL_S=0.05),
        redis=redis_client,
        sessionmaker=db.create_sessionmaker(db_engine),
    )
    try:
        assert await other.environment() == "sandbox"
        async with db_engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO gateway.gateway_setting (id, daraja_environment, updated_by) "
                    "VALUES (1, 'production', 'elsewhere')"
                )
            )

        async def switched() -> bool:
            return await other.environment() == "production"

        await wait_until(switched, within=5, what="the other process to see production")
    finally:
        await other.aclose()


def test_the_command_line_runs_a_dry_run(
    stored: uuid.UUID, capsys: pytest.CaptureFixture[str]
) -> None:
    # The row is already under the only configured key: nothing to do.
    code = cli.main(["rotate-keys", "--dry-run"])

    assert code == 0
    assert "would re-encrypt 0 credential rows under key 'dev'" in capsys.readouterr().out


def test_stored_credentials_never_show_their_secrets_in_a_repr() -> None:
    shown = repr(CREDENTIALS)

    assert CREDENTIALS.consumer_secret not in shown
    assert CREDENTIALS.passkey not in shown
    assert "174379" in shown
