"""The console's tests: rows written into the test's transaction, the gateway's console
endpoints on the respx gateway, and a staff account."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import UserRole
from tests.session_api.console.data import GatewayFacts, Rows
from tests.session_api.fixtures import Account, FakeGateway, MakeAccount
from tests.session_api.flows.flow import Flow, FlowFactory, open_flow


@pytest.fixture
def rows(db_session: AsyncSession) -> Rows:
    return Rows(db_session)


@pytest.fixture
def facts(gateway: FakeGateway) -> GatewayFacts:
    return GatewayFacts(gateway)


@pytest.fixture
async def staff(account: MakeAccount) -> Account:
    return await account(role=UserRole.staff, name="Sam Staff")


@pytest.fixture
def make_flow(
    database_url: str, redis_url: str, clean_database: None, redis_client: Redis
) -> FlowFactory:
    """The whole system (simulator, gateway, session-api) as `tests/session_api/flows` runs it."""

    def factory(**options: Any) -> AbstractAsyncContextManager[Flow]:
        return open_flow(database_url, redis_url, **options)

    return factory
