"""The console's tests: rows written into the test's transaction, the gateway's console
endpoints on the respx gateway, and a staff account."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import UserRole
from tests.session_api.console.data import GatewayFacts, Rows
from tests.session_api.fixtures import Account, FakeGateway, MakeAccount


@pytest.fixture
def rows(db_session: AsyncSession) -> Rows:
    return Rows(db_session)


@pytest.fixture
def facts(gateway: FakeGateway) -> GatewayFacts:
    return GatewayFacts(gateway)


@pytest.fixture
async def staff(account: MakeAccount) -> Account:
    return await account(role=UserRole.staff, name="Sam Staff")
