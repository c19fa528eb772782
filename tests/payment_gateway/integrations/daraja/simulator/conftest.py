"""Fixtures of the client's tests against the Daraja simulator: one simulator and one merchant
per module, reset for each test, and a client configured for them."""

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from payment_gateway.integrations.daraja import DarajaClient, DarajaConfig
from shared.testing import serve_app
from tests.payment_gateway.integrations.daraja.simulator.harness import (
    Merchant,
    Receiver,
    Simulator,
    SimulatorConfig,
    SimulatorFactory,
    running_simulator,
)


@pytest.fixture(scope="module")
async def merchant() -> AsyncIterator[Merchant]:
    server = Merchant()
    async with serve_app(server.app) as url:
        server.base_url = url
        yield server


@pytest.fixture
def receiver(merchant: Merchant) -> Receiver:
    return Receiver(merchant=merchant, prefix=f"/t{uuid.uuid4().hex[:12]}")


@pytest.fixture
def make_simulator() -> SimulatorFactory:
    """A simulator of its own, for the tests that change its settings."""
    return running_simulator


@pytest.fixture(scope="module")
async def shared_simulator() -> AsyncIterator[Simulator]:
    async with running_simulator() as running:
        yield running


@pytest.fixture
async def simulator(shared_simulator: Simulator) -> AsyncIterator[Simulator]:
    """The module's simulator with the default settings, reset for this test."""
    reset = await shared_simulator.control.post("/simulator/reset")
    assert reset.status_code == 204, reset.text
    yield shared_simulator
    await shared_simulator.idle()


@pytest.fixture
def simulator_config(make_config: Callable[..., DarajaConfig]) -> SimulatorConfig:
    """A client config for a simulator: the simulator's own test credentials."""

    def build(simulator: Simulator, **overrides: Any) -> DarajaConfig:
        fields: dict[str, Any] = {
            "base_url": simulator.url,
            "consumer_key": "test-consumer-key",
            "consumer_secret": SecretStr("test-consumer-secret"),
        }
        config: DarajaConfig = make_config(**{**fields, **overrides})
        return config

    return build


@pytest.fixture
async def daraja(
    simulator: Simulator, simulator_config: SimulatorConfig, redis_client: Redis
) -> AsyncIterator[DarajaClient]:
    async with DarajaClient(simulator_config(simulator), redis=redis_client) as client:
        yield client
