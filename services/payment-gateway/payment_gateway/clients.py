"""The outbound clients a gateway process holds for its lifetime."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payment_gateway.config import Settings
from payment_gateway.credentials.envelope import Keyring
from payment_gateway.credentials.exceptions import CredentialsNotConfigured
from payment_gateway.credentials.repository import (
    DarajaCredentialRepository,
    GatewaySettingRepository,
)
from payment_gateway.credentials.stored import StoredCredentials, open_row
from payment_gateway.integrations.daraja import DarajaClient, DarajaConfig
from payment_gateway.models import ShortcodeType
from shared.http import KEEPALIVE_EXPIRY_S


def daraja_config(
    settings: Settings, *, stored: StoredCredentials | None = None, environment: str | None = None
) -> DarajaConfig:
    """The Daraja app of ``environment`` (settings' DARAJA_ENVIRONMENT by default): ``stored``
    credentials when given, else the bootstrap credentials from settings."""
    environment = stored.environment if stored else environment or settings.DARAJA_ENVIRONMENT
    if stored is None:
        app: dict[str, object] = {
            "consumer_key": settings.DARAJA_CONSUMER_KEY.get_secret_value(),
            "consumer_secret": settings.DARAJA_CONSUMER_SECRET,
            "shortcode": settings.DARAJA_SHORTCODE,
            "party_b": settings.party_b,
            "passkey": settings.DARAJA_PASSKEY,
            "transaction_type": settings.DARAJA_TRANSACTION_TYPE,
        }
    else:
        till = stored.shortcode_type is ShortcodeType.till
        app = {
            "consumer_key": stored.consumer_key,
            "consumer_secret": SecretStr(stored.consumer_secret),
            "shortcode": stored.shortcode,
            "party_b": stored.shortcode,
            "passkey": SecretStr(stored.passkey),
            "transaction_type": "CustomerBuyGoodsOnline" if till else "CustomerPayBillOnline",
            "callback_base_url": stored.callback_base_url.rstrip("/"),
            "initiator_name": stored.initiator_name,
            "security_credential": SecretStr(stored.security_credential),
        }
    return DarajaConfig(
        **app,
        base_url=settings.daraja_base_url(environment),
        environment=environment,
        connect_timeout_s=settings.DARAJA_CONNECT_TIMEOUT_S,
        read_timeout_s=settings.DARAJA_READ_TIMEOUT_S,
        token_refresh_margin_s=int(settings.DARAJA_TOKEN_REFRESH_MARGIN_S),
        query_max_retries=settings.DARAJA_QUERY_MAX_RETRIES,
        query_rate_per_second=settings.DARAJA_QUERY_RATE_PER_SECOND,
        redis_key_prefix=f"{settings.NAMESPACE}:daraja",
    )


def daraja_client(settings: Settings, *, redis: Redis) -> DarajaClient:
    return DarajaClient(daraja_config(settings), redis=redis)


class DarajaClients:
    """The Daraja client of each environment, for one process.

    The active environment and each environment's credentials come from the database (stored
    credentials win; settings are the bootstrap while nothing is stored) and are read again
    after `CREDENTIALS_CACHE_TTL_S`, so a switch or a credential change made through any process
    reaches every process within that. Clients share one HTTP connection pool and are kept per
    credentials, so a change never cuts off a call in flight."""

    def __init__(
        self,
        settings: Settings,
        *,
        redis: Redis,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self.settings = settings
        self.keyring = Keyring.of(settings.encryption_keys)
        self._redis = redis
        self._sessionmaker = sessionmaker
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=settings.DARAJA_CONNECT_TIMEOUT_S,
                read=settings.DARAJA_READ_TIMEOUT_S,
                write=settings.DARAJA_READ_TIMEOUT_S,
                pool=settings.DARAJA_CONNECT_TIMEOUT_S,
            ),
            limits=httpx.Limits(max_connections=100, keepalive_expiry=KEEPALIVE_EXPIRY_S),
        )
        self._clients: dict[DarajaConfig, DarajaClient] = {}
        self._configs: dict[str, tuple[float, DarajaConfig | None]] = {}
        self._environment: tuple[float, str] | None = None
        self._lock = asyncio.Lock()

    async def environment(self) -> str:
        """The active environment: where new payments are made."""
        now = time.monotonic()
        if self._environment is None or now >= self._environment[0]:
            async with self._sessionmaker() as session:
                row = await GatewaySettingRepository.from_session(session).current()
            active = row.daraja_environment if row else self.settings.DARAJA_ENVIRONMENT
            self._environment = (now + self.settings.CREDENTIALS_CACHE_TTL_S, active)
        return self._environment[1]

    async def active(self) -> DarajaClient:
        return await self.for_environment(await self.environment())

    async def for_environment(self, environment: str) -> DarajaClient:
        """The client of ``environment`` (a payment is always asked about in its own);
        `CredentialsNotConfigured` when it has no credentials."""
        config = await self.config(environment)
        if config is None:
            raise CredentialsNotConfigured(
                f"the {environment} environment has no Daraja credentials: store them with "
                f"PUT /v1/settings/daraja/{environment}"
            )
        return self.client(config)

    async def config(self, environment: str) -> DarajaConfig | None:
        now = time.monotonic()
        cached = self._configs.get(environment)
        if cached is not None and now < cached[0]:
            return cached[1]
        async with self._lock:
            async with self._sessionmaker() as session:
                row = await DarajaCredentialRepository.from_session(session).for_environment(
                    environment
                )
            if row is not None:
                config: DarajaConfig | None = daraja_config(
                    self.settings, stored=open_row(row, keyring=self.keyring)
                )
            elif environment == self.settings.DARAJA_ENVIRONMENT:
                config = daraja_config(self.settings)
            else:
                config = None
            self._configs[environment] = (now + self.settings.CREDENTIALS_CACHE_TTL_S, config)
        return config

    def client(self, config: DarajaConfig) -> DarajaClient:
        client = self._clients.get(config)
        if client is None:
            client = DarajaClient(config, redis=self._redis, http=self._http)
            self._clients[config] = client
        return client

    def forget(self) -> None:
        """Read the environment and credentials again on next use (this process changed them)."""
        self._configs.clear()
        self._environment = None

    async def aclose(self) -> None:
        await self._http.aclose()


def daraja_clients(
    settings: Settings, *, redis: Redis, sessionmaker: async_sessionmaker[AsyncSession]
) -> DarajaClients:
    return DarajaClients(settings, redis=redis, sessionmaker=sessionmaker)


def webhook_http(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.WEBHOOK_TIMEOUT_S),
        limits=httpx.Limits(max_connections=50, keepalive_expiry=KEEPALIVE_EXPIRY_S),
        follow_redirects=False,
        headers={"user-agent": "mpesa-payment-gateway/0.1"},
    )


async def callback_store(settings: Settings) -> asyncpg.Pool:
    """A plain asyncpg pool for the one statement that stores a callback: the API's hottest
    write needs no ORM session, and bypassing it makes ingest several times cheaper. Connects
    lazily, like the engine, so the API starts while PostgreSQL is down."""
    pool = asyncpg.create_pool(
        asyncpg_dsn(settings),
        min_size=0,
        max_size=settings.CALLBACK_STORE_POOL_SIZE,
        timeout=settings.DATABASE_CONNECT_TIMEOUT_S,
        # Statements are few and fixed; keep them prepared per connection.
        statement_cache_size=16,
    )
    return await pool


def asyncpg_dsn(settings: Settings) -> str:
    """`DATABASE_URL` as asyncpg itself takes it (SQLAlchemy's URL names the driver)."""
    return settings.DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://", 1)
