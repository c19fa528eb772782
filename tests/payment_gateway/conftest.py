"""Whole-flow fixtures for the gateway's tests, on the shared harness (``stack.py`` says what a
stack offers). Starting a stack costs a second, so tests that need nothing special share one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.payment_gateway.stack import (
    LOOPBACK_ALLOW_LIST,
    GatewayStack,
    StackFactory,
    running_stack,
)


@pytest.fixture(scope="session")
async def shared_stack(db_engine: AsyncEngine) -> AsyncIterator[GatewayStack]:
    # No sweeps: this stack lives through other tests' stacks, whose rows it must not adopt.
    async with running_stack(db_engine, sweeps=False) as stack:
        yield stack


@pytest.fixture
async def stack(shared_stack: GatewayStack) -> AsyncIterator[GatewayStack]:
    """The default stack, shared by the tests that need nothing special: such tests use fresh
    phones and look only at their own payments."""
    yield shared_stack
    await shared_stack.reset()


@pytest.fixture(scope="session")
async def shared_allow_listed_stack(db_engine: AsyncEngine) -> AsyncIterator[GatewayStack]:
    async with running_stack(db_engine, gateway=LOOPBACK_ALLOW_LIST, sweeps=False) as stack:
        yield stack


@pytest.fixture
async def allow_listed_stack(
    shared_allow_listed_stack: GatewayStack,
) -> AsyncIterator[GatewayStack]:
    """A shared stack whose callbacks come from the source allow-list (see `stack`)."""
    yield shared_allow_listed_stack
    await shared_allow_listed_stack.reset()


@pytest.fixture
def make_stack(clean_database: None, redis_client: Redis, db_engine: AsyncEngine) -> StackFactory:
    """A stack of its own, on an empty database:
    `async with make_stack(simulator={...}, gateway={...}, worker=True) as stack:`"""

    def factory(**options: Any) -> AbstractAsyncContextManager[GatewayStack]:
        return running_stack(db_engine, **options)

    return factory
