from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import respx
from pydantic import SecretStr
from redis.asyncio import Redis

from payment_gateway.integrations.daraja import DarajaClient, DarajaConfig

BASE_URL = "https://daraja.test"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


def build_config(**overrides: Any) -> DarajaConfig:
    fields: dict[str, Any] = {
        "base_url": BASE_URL,
        "consumer_key": "ck-test",
        "consumer_secret": SecretStr("cs-test"),
        "shortcode": "174379",
        "party_b": "174379",
        "passkey": SecretStr(SANDBOX_PASSKEY),
        "transaction_type": "CustomerPayBillOnline",
        "environment": "sandbox",
        # Fast enough that no test waits on a real-world schedule.
        "query_backoff_base_s": 0.001,
        "query_backoff_cap_s": 0.005,
        "query_rate_per_second": 10_000,
        "token_poll_interval_s": 0.005,
    }
    fields.update(overrides)
    return DarajaConfig(**fields)


ConfigFactory = Callable[..., DarajaConfig]


@pytest.fixture
def make_config() -> ConfigFactory:
    """Build a test config with some fields overridden."""
    return build_config


@pytest.fixture
def config() -> DarajaConfig:
    return build_config()


@pytest.fixture
def daraja_mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def token_route(daraja_mock: respx.MockRouter) -> respx.Route:
    return daraja_mock.get("/oauth/v1/generate").respond(
        json={"access_token": "tok-1", "expires_in": "3599"}
    )


@pytest.fixture
async def client(config: DarajaConfig, redis_client: Redis) -> AsyncIterator[DarajaClient]:
    daraja = DarajaClient(config, redis=redis_client)
    yield daraja
    await daraja.aclose()


@pytest.fixture
async def fresh_token(
    client: DarajaClient, redis_client: Redis, daraja_mock: respx.MockRouter
) -> respx.Route:
    """The shared token cache holds a token Daraja no longer accepts; OAuth hands out "fresh"."""
    await redis_client.set(client.tokens.key, "stale")
    return daraja_mock.get("/oauth/v1/generate").respond(
        json={"access_token": "fresh", "expires_in": "3599"}
    )
