"""The outbound clients a gateway process holds for its lifetime."""

from __future__ import annotations

import asyncpg
import httpx
from redis.asyncio import Redis

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import DarajaClient, DarajaConfig
from shared.http import KEEPALIVE_EXPIRY_S


def daraja_config(settings: Settings) -> DarajaConfig:
    return DarajaConfig(
        base_url=settings.DARAJA_BASE_URL,
        consumer_key=settings.DARAJA_CONSUMER_KEY.get_secret_value(),
        consumer_secret=settings.DARAJA_CONSUMER_SECRET,
        shortcode=settings.DARAJA_SHORTCODE,
        party_b=settings.party_b,
        passkey=settings.DARAJA_PASSKEY,
        transaction_type=settings.DARAJA_TRANSACTION_TYPE,
        environment=settings.DARAJA_ENVIRONMENT,
        connect_timeout_s=settings.DARAJA_CONNECT_TIMEOUT_S,
        read_timeout_s=settings.DARAJA_READ_TIMEOUT_S,
        token_refresh_margin_s=int(settings.DARAJA_TOKEN_REFRESH_MARGIN_S),
        query_max_retries=settings.DARAJA_QUERY_MAX_RETRIES,
        query_rate_per_second=settings.DARAJA_QUERY_RATE_PER_SECOND,
        redis_key_prefix=f"{settings.NAMESPACE}:daraja",
    )


def daraja_client(settings: Settings, *, redis: Redis) -> DarajaClient:
    return DarajaClient(daraja_config(settings), redis=redis)


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
