"""The outbound clients a gateway process holds for its lifetime."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import DarajaClient, DarajaConfig


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
        redis_key_prefix=f"{settings.REDIS_NAMESPACE}:daraja",
    )


def daraja_client(settings: Settings, *, redis: Redis) -> DarajaClient:
    return DarajaClient(daraja_config(settings), redis=redis)


def webhook_http(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.WEBHOOK_TIMEOUT_S),
        limits=httpx.Limits(max_connections=50),
        follow_redirects=False,
        headers={"user-agent": "mpesa-payment-gateway/0.1"},
    )
