"""pytest plugin (``-p shared.testing``): real PostgreSQL and Redis for every test suite.

At session start it takes ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` or starts (or reuses) the
embedded servers (database ``TEST_DATABASE_NAME``, default ``mpesa_test``; Redis db
``TEST_REDIS_DB``, default 15), recreates the test database, runs every alembic history in
``migrations/alembic.ini``, and exports ``DATABASE_URL`` / ``REDIS_URL`` / ``ENVIRONMENT=testing``
so settings built by tests point at them. Servers it started are stopped at the end.

Fixtures: ``db_engine``, ``db_session`` (one rolled-back transaction per test), ``clean_database``
(truncate, for tests whose other processes must see committed rows), ``redis_client`` (flushed),
and ``asgi_client`` (an ``httpx.AsyncClient`` on an app, lifespan run, DB session overridden).
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from shared import db, worker
from shared.devstack.servers import Stack, ensure_stack
from shared.serving import serve_app

__all__ = ["open_asgi_client", "serve_app", "truncate_tables", "wait_until"]

# Overridable so several test runs can share one embedded server without touching each other.
TEST_DATABASE = os.environ.get("TEST_DATABASE_NAME", "mpesa_test")
TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "15"))
ALEMBIC_INI = Path("migrations/alembic.ini")

_stack: Stack | None = None


def migration_histories(ini: Path = ALEMBIC_INI) -> dict[str, str]:
    """``{alembic name: schema}`` for every history declared in the ini file."""
    parser = configparser.ConfigParser()
    parser.read(ini)
    return {
        name: parser[name]["schema"]
        for name in parser.sections()
        if "script_location" in parser[name] and "schema" in parser[name]
    }


def migrate(database_url: str, ini: Path = ALEMBIC_INI) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    for name in migration_histories(ini):
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(ini), "-n", name, "upgrade", "head"],
            check=True,
            env=env,
            capture_output=True,
        )


def _drop_schemas(database_url: str, schemas: list[str]) -> None:
    import asyncio

    async def drop() -> None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        async with engine.begin() as connection:
            for schema in schemas:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()

    asyncio.run(drop())


def pytest_sessionstart(session: pytest.Session) -> None:
    global _stack
    if not ALEMBIC_INI.exists():
        raise pytest.UsageError(f"run the tests from the repository root ({ALEMBIC_INI} missing)")
    given_db = os.environ.get("TEST_DATABASE_URL")
    _stack = ensure_stack(
        given_db,
        os.environ.get("TEST_REDIS_URL"),
        database=TEST_DATABASE,
        redis_db=TEST_REDIS_DB,
    )
    if _stack.postgres is not None:
        _stack.postgres.create_database(TEST_DATABASE, recreate=True)
    else:
        _drop_schemas(_stack.database_url, list(migration_histories().values()))
    migrate(_stack.database_url)
    os.environ["DATABASE_URL"] = _stack.database_url
    os.environ["REDIS_URL"] = _stack.redis_url
    os.environ["ENVIRONMENT"] = "testing"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _stack is not None:
        _stack.stop_started()


def pytest_report_header(config: pytest.Config) -> list[str]:
    if _stack is None:
        return []
    return [
        f"database: {_stack.database_url}",
        f"redis: {_stack.redis_url}",
        f"embedded servers started: {', '.join(_stack.started) or 'none'}",
    ]


@pytest.fixture(scope="session")
def database_url() -> str:
    assert _stack is not None
    return _stack.database_url


@pytest.fixture(scope="session")
def redis_url() -> str:
    assert _stack is not None
    return _stack.redis_url


@pytest.fixture(scope="session")
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_session(db_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside one outer transaction that is rolled back after the test; commits made
    by the code under test become savepoints."""
    async with db_engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


async def truncate_tables(engine: AsyncEngine) -> None:
    """Empty every table in the migrated schemas."""
    schemas = list(migration_histories().values())
    async with engine.begin() as connection:
        rows = await connection.execute(
            text(
                "SELECT schemaname, tablename FROM pg_tables "
                "WHERE schemaname = ANY(:schemas) AND tablename <> 'alembic_version'"
            ),
            {"schemas": schemas},
        )
        tables = [f'"{schema}"."{table}"' for schema, table in rows]
        if tables:
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))


@pytest.fixture
async def clean_database(db_engine: AsyncEngine) -> AsyncIterator[None]:
    """Empty every table in the migrated schemas before (and after) the test, for tests where
    other processes must see committed rows."""
    await truncate_tables(db_engine)
    yield
    await truncate_tables(db_engine)


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


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
            # Each request runs in its own savepoint so a failing one is undone on its own, as a
            # real request's rollback would be, leaving what the test wrote before it.
            request_savepoint = await session.begin_nested()
            try:
                yield session
            except BaseException:
                if request_savepoint.is_active:
                    await request_savepoint.rollback()
                worker.discard_pending_jobs(session)
                raise
            else:
                if request_savepoint.is_active:
                    await request_savepoint.commit()
                await session.commit()
                await worker.flush_pending_jobs(session, getattr(app.state, "arq", None))

        app.dependency_overrides[db.get_db_session] = test_session
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
                yield client
    finally:
        app.dependency_overrides.pop(db.get_db_session, None)


@pytest.fixture
def asgi_client() -> AsgiClientFactory:
    """``async with asgi_client(app, session=db_session) as client: ...``"""

    def factory(app: FastAPI, **kwargs: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return open_asgi_client(app, **kwargs)

    return factory


async def wait_until(
    check: Callable[[], Awaitable[Any]],
    *,
    within: float = 10.0,
    what: str = "condition",
    interval_s: float = 0.01,
) -> Any:
    """Await a condition that another task or process makes true (a worker job, a simulated
    customer, a served app) and return the first truthy value ``check`` gives. Polling is the
    only way to observe another process; a timeout fails the test naming ``what``."""
    import asyncio
    import time

    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(interval_s)
