"""An app driven in-process over ASGI, its lifespan run, optionally inside the test's session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from shared import db

AsgiClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def open_asgi_client(
    app: FastAPI,
    *,
    session: AsyncSession | None = None,
    base_url: str = "http://testserver",
    raise_app_exceptions: bool = True,
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and talk to it in-process. With ``session``, every request uses that
    session (the test's rolled-back transaction) instead of opening its own. Unexpected errors
    are raised into the test unless ``raise_app_exceptions=False`` (then the 500 is returned)."""
    if session is not None:

        async def test_session() -> AsyncIterator[AsyncSession]:
            # Each request is a unit of work in its own savepoint, so a failing one is undone on
            # its own, as a real request's rollback would be, leaving what the test wrote before.
            async with db.unit_of_work(session, getattr(app.state, "arq", None), savepoint=True):
                yield session

        app.dependency_overrides[db.get_db_session] = test_session
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
                yield client
    finally:
        app.dependency_overrides.pop(db.get_db_session, None)
