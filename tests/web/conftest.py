"""Fixtures for the web app's browser tests (helpers in ``browser.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.session_api.flows.flow import Flow, open_flow
from tests.web.browser import (
    VIEWPORTS,
    Browsers,
    Shots,
    Viewport,
    open_browsers,
    require_browser,
    shots_for,
)


@pytest.fixture(params=VIEWPORTS, ids=lambda v: v.name)
def viewport(request: pytest.FixtureRequest) -> Viewport:
    require_browser()
    value: Viewport = request.param
    return value


@pytest.fixture
async def stack(
    viewport: Viewport,
    database_url: str,
    redis_url: str,
    clean_database: None,
    redis_client: Redis,
) -> AsyncIterator[Flow]:
    """The whole system (simulator, gateway and its worker, session-api serving the built app),
    session-api answering with production's HSTS and strict Content-Security-Policy: every
    browser test also checks that the built app runs under that policy."""
    async with open_flow(
        database_url, redis_url, session_api={"SECURITY_HEADERS": True}
    ) as running:
        yield running


@pytest.fixture
async def browsers(stack: Flow, viewport: Viewport) -> AsyncIterator[Browsers]:
    async with open_browsers(str(stack.api.base_url).rstrip("/"), viewport) as opened:
        yield opened


@pytest.fixture
def shots(request: pytest.FixtureRequest, viewport: Viewport) -> Shots:
    return shots_for(request.node.originalname, viewport)
