"""Fixtures for session-api: settings for tests, the respx stand-in for the payment gateway, the
app over ASGI (in the test's rolled-back transaction, or committing for real where other
connections must see the rows), and accounts with tokens. The helpers are in ``fixtures.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.config import Settings
from session_api.main import create_app
from shared.testing import open_asgi_client
from tests.session_api.fixtures import (
    Account,
    FakeGateway,
    MakeAccount,
    make_account,
    make_settings,
)


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url)


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def app(settings: Settings, gateway: FakeGateway) -> FastAPI:
    return create_app(settings, gateway=gateway.client())


@pytest.fixture
async def api(app: FastAPI, db_session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process, every request inside the test's rolled-back transaction."""
    async with open_asgi_client(app, session=db_session) as client:
        yield client


@pytest.fixture
async def live_api(app: FastAPI, clean_database: None) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process with its own committing sessions, for tests where concurrent requests
    or stream re-reads must see each other's rows."""
    async with open_asgi_client(app) as client:
        yield client


@pytest.fixture
def account(db_session: AsyncSession, settings: Settings) -> MakeAccount:
    """`await account(role=UserRole.therapist, rate=3000)`: a user in the test transaction."""

    async def make(**kwargs: Any) -> Account:
        return await make_account(db_session, settings, **kwargs)

    return make


@pytest.fixture
def live_account(app: FastAPI, settings: Settings, live_api: httpx.AsyncClient) -> MakeAccount:
    """Like `account`, committed for real."""

    async def make(**kwargs: Any) -> Account:
        async with app.state.sessionmaker() as session, session.begin():
            return await make_account(session, settings, **kwargs)

    return make
