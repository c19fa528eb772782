"""Whole-flow fixtures for session-api (``flow.py`` says what a flow offers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.session_api.flows.flow import Flow, FlowFactory, open_flow


@pytest.fixture
def make_flow(
    database_url: str, redis_url: str, clean_database: None, redis_client: Redis
) -> FlowFactory:
    """`async with make_flow(simulator={...}, gateway={...}) as flow:` with setting overrides."""

    def factory(**options: Any) -> AbstractAsyncContextManager[Flow]:
        return open_flow(database_url, redis_url, **options)

    return factory


@pytest.fixture
async def flow(make_flow: FlowFactory) -> AsyncIterator[Flow]:
    async with make_flow() as running:
        yield running
