"""pytest plugin (``-p shared.testing``): real PostgreSQL and Redis for every test suite, and the
one harness that starts the platform for tests and benchmarks.

At session start it takes ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` or starts (or reuses) the
embedded servers (database ``TEST_DATABASE_NAME``, default ``mpesa_test``; Redis db
``TEST_REDIS_DB``, default 15), recreates the test database, runs every alembic history in
``migrations/alembic.ini``, and exports ``DATABASE_URL`` / ``REDIS_URL`` / ``ENVIRONMENT=testing``
so settings built by tests point at them. Servers it started are stopped at the end. Under
pytest-xdist each worker gets a database and a Redis db of its own.

Fixtures: ``db_engine``, ``db_session`` (one rolled-back transaction per test), ``clean_database``
(truncate, for tests whose other processes must see committed rows), ``redis_client`` (flushed),
``asgi_client`` (an ``httpx.AsyncClient`` on an app, lifespan run, DB session overridden) and
``log_lines`` (the lines logged under the services' own logging configuration).

The modules beside this one are the harness: ``system`` (the simulator, the gateway with its
worker, and session-api served in this event loop), ``processes`` (services as OS processes),
``workers``, ``waiting``, ``asgi``, ``database``; ``interruption`` and ``timeouts`` keep a run
from hanging or leaving servers behind.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared import db
from shared.devstack import servers
from shared.devstack.servers import Stack, ensure_stack
from shared.logging import configure_logging
from shared.serving import serve_app
from shared.testing import database, timeouts
from shared.testing.asgi import AsgiClientFactory, open_asgi_client
from shared.testing.database import truncate_tables
from shared.testing.interruption import Interruption
from shared.testing.waiting import wait_until
from shared.testing.workers import RunningWorker, start_worker

__all__ = [
    "AsgiClientFactory",
    "RunningWorker",
    "open_asgi_client",
    "serve_app",
    "start_worker",
    "truncate_tables",
    "wait_until",
]

# Overridable so several test runs can share one embedded server without touching each other.
TEST_DATABASE = os.environ.get("TEST_DATABASE_NAME", "mpesa_test")
TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "15"))

_stack: Stack | None = None
_interruption = Interruption()


def pytest_configure(config: pytest.Config) -> None:
    if timeouts.in_main_thread():
        _interruption.install()
    # Log as the services do (JSON, redacted). Left unconfigured, structlog renders for a
    # terminal, and with `rich` installed every logged exception costs seconds of CPU.
    configure_logging(level="INFO", json=True, service="test", cache_loggers=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    _interruption.finished.set()


def _xdist_worker_index(config: pytest.Config) -> int | None:
    """Which pytest-xdist worker this process is (gw0 is 0), or None outside one."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    return int(str(workerinput["workerid"]).removeprefix("gw"))


def _is_xdist_controller(config: pytest.Config) -> bool:
    return _xdist_worker_index(config) is None and getattr(config.option, "dist", "no") != "no"


def _given_redis_url(worker: int | None) -> str | None:
    """``TEST_REDIS_URL``, moved down one db per xdist worker."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url or worker is None:
        return url
    redis_db = database.redis_db_of(url) - worker
    if redis_db < 0:
        raise pytest.UsageError(f"TEST_REDIS_URL {url}: no Redis db left for worker {worker}")
    return database.with_redis_db(url, redis_db)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Servers for the run. Under pytest-xdist the controller (which runs no test) starts or
    reuses them, and each worker gets a database and a Redis db of its own."""
    global _stack
    if not database.ALEMBIC_INI.exists():
        raise pytest.UsageError(
            f"run the tests from the repository root ({database.ALEMBIC_INI} missing)"
        )
    worker = _xdist_worker_index(session.config)
    name = TEST_DATABASE if worker is None else f"{TEST_DATABASE}_gw{worker}"
    redis_db = TEST_REDIS_DB if worker is None else TEST_REDIS_DB - worker
    if not 0 < redis_db < 16:
        raise pytest.UsageError(f"Redis db {redis_db}: run fewer workers or raise TEST_REDIS_DB")
    try:
        _stack = ensure_stack(
            os.environ.get("TEST_DATABASE_URL"),
            _given_redis_url(worker),
            database=name,
            redis_db=redis_db,
            # Workers share the controller's servers: two starting one would race.
            reuse_only=worker is not None,
        )
        if _is_xdist_controller(session.config):
            return
        if _stack.postgres is not None:
            _stack.postgres.create_database(name, recreate=True)
        elif worker is not None:
            _stack.database_url = database.create_sibling_database(_stack.database_url, worker)
        else:
            database.drop_schemas(
                _stack.database_url, list(database.migration_histories().values())
            )
        database.migrate(_stack.database_url)
    except BaseException:
        # pytest calls pytest_sessionfinish only once this hook has returned.
        servers.stop_servers_started_here()
        raise
    os.environ["DATABASE_URL"] = _stack.database_url
    os.environ["REDIS_URL"] = _stack.redis_url
    os.environ["ENVIRONMENT"] = "testing"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    servers.stop_servers_started_here()


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    """pytest-timeout's signal method, aware of asyncio (see ``timeouts``)."""
    if settings.method != "signal" or not timeouts.in_main_thread():
        return None
    timeouts.set_timer(item, settings.timeout)
    return True


def pytest_report_header(config: pytest.Config) -> list[str]:
    if _stack is None:
        return []
    return [
        f"database: {_stack.database_url}",
        f"redis: {_stack.redis_url}",
        f"embedded servers started: {', '.join(_stack.started) or 'none'}",
    ]


@pytest.fixture(autouse=True)
def _logging_put_back() -> Iterator[None]:
    """Whatever logging configuration a test sets (tests of the logging itself do) ends with it:
    a logger cached under it would escape every later test's capture."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    access = logging.getLogger("uvicorn.access")
    access_disabled = access.disabled
    yield
    structlog.configure(**saved)
    root.handlers, root.level = handlers, level
    access.disabled = access_disabled


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


@pytest.fixture
def asgi_client() -> AsgiClientFactory:
    """``async with asgi_client(app, session=db_session) as client: ...``"""

    def factory(app: FastAPI, **kwargs: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return open_asgi_client(app, **kwargs)

    return factory


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[str]]]:
    """Logging as every service configures it at start-up (JSON lines, INFO, redaction); call the
    yielded function for the non-empty lines written to stdout and stderr since the last call.
    The previous configuration is put back afterwards (by ``_logging_put_back``)."""
    configure_logging(level="INFO", json=True, service="test", cache_loggers=False)

    def read() -> list[str]:
        captured = capsys.readouterr()
        return [line for line in (captured.out + captured.err).splitlines() if line.strip()]

    yield read
