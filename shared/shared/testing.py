"""pytest plugin (``-p shared.testing``): real PostgreSQL and Redis for every test suite.

At session start it takes ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` or starts (or reuses) the
embedded servers (database ``TEST_DATABASE_NAME``, default ``mpesa_test``; Redis db
``TEST_REDIS_DB``, default 15), recreates the test database, runs every alembic history in
``migrations/alembic.ini``, and exports ``DATABASE_URL`` / ``REDIS_URL`` / ``ENVIRONMENT=testing``
so settings built by tests point at them. Servers it started are stopped at the end.

Fixtures: ``db_engine``, ``db_session`` (one rolled-back transaction per test), ``clean_database``
(truncate, for tests whose other processes must see committed rows), ``redis_client`` (flushed),
``asgi_client`` (an ``httpx.AsyncClient`` on an app, lifespan run, DB session overridden) and
``log_lines`` (the lines logged under the services' own logging configuration).
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil
import pytest
import structlog
from arq.worker import Worker
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from shared import db
from shared.devstack import servers
from shared.devstack.servers import Stack, ensure_stack
from shared.logging import configure_logging
from shared.serving import serve_app

__all__ = [
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
ALEMBIC_INI = Path("migrations/alembic.ini")
MIGRATE_TIMEOUT_S = 300
# After Ctrl-C or SIGTERM the run gets this long to finish on its own (teardown, stopping the
# embedded servers) before it is ended for it; a second signal ends it at once.
INTERRUPT_GRACE_S = 7.0

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
    """Every history to head, in one child process (alembic configures logging as it goes, which
    must not happen to the test process; one interpreter for all saves its start-up)."""
    upgrades = "; ".join(
        f"main(['-c', {str(ini)!r}, '-n', {name!r}, 'upgrade', 'head'])"
        for name in migration_histories(ini)
    )
    result = subprocess.run(
        [sys.executable, "-c", f"from alembic.config import main; {upgrades}"],
        check=False,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=MIGRATE_TIMEOUT_S,
    )
    if result.returncode != 0:
        raise RuntimeError(f"migrations failed:\n{result.stderr[-3000:]}")


def _with_redis_db(url: str, worker: int | None) -> str:
    """A given Redis URL, moved down one db per xdist worker."""
    if worker is None:
        return url
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0) - worker
    if db < 0:
        raise pytest.UsageError(f"TEST_REDIS_URL {url}: no Redis db left for worker {worker}")
    return urlunsplit(parts._replace(path=f"/{db}"))


def _create_sibling_database(database_url: str, worker: int) -> str:
    """A fresh database beside the given one for one xdist worker; its URL."""
    url = make_url(database_url)
    name = f"{url.database}_gw{worker}"

    async def create() -> None:
        engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        await engine.dispose()

    asyncio.run(create())
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_schemas(database_url: str, schemas: list[str]) -> None:
    async def drop() -> None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        async with engine.begin() as connection:
            for schema in schemas:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()

    asyncio.run(drop())


class _Interruption:
    """Ctrl-C and SIGTERM end the run promptly and never leave an embedded server behind.

    Both raise KeyboardInterrupt at once, wherever the run is (pytest then tears down and
    ``pytest_sessionfinish`` stops the servers). Nothing may keep the run alive after that: a
    watchdog stops the servers this process started and exits when the grace runs out, and a
    second signal does so immediately. Installed handlers of our own also keep asyncio's runner
    from turning the first Ctrl-C into a cancellation that a stuck task could swallow.
    """

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self.finished = threading.Event()
        self.signalled: int | None = None

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.signalled is not None:
            self._end_now(signum)
        self.signalled = signum
        threading.Thread(target=self._watch, name="interrupt-watchdog", daemon=True).start()
        # A SIGTERM sent to this process alone (make passes it on to us only) reaches pytest-xdist's
        # workers too, so they stop at once instead of finishing the test they are stuck in.
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.Error):
                child.send_signal(signal.SIGINT)
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    def _watch(self) -> None:
        if not self.finished.wait(self.grace_s):
            assert self.signalled is not None
            self._end_now(self.signalled)

    def _end_now(self, signum: int) -> None:
        sys.stderr.write(
            f"\n{signal.Signals(signum).name}: stopping the embedded servers this run started "
            "and exiting\n"
        )
        sys.stderr.flush()
        servers.stop_servers_started_here()
        # pytest-xdist's workers, a stuck test's subprocesses: nothing of this run outlives it.
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
        os._exit(128 + signum)


_interruption = _Interruption(INTERRUPT_GRACE_S)


def pytest_configure(config: pytest.Config) -> None:
    if threading.current_thread() is threading.main_thread():
        _interruption.install()
    # Log as the services do (JSON, redacted). Left unconfigured, structlog renders for a
    # terminal, and with `rich` installed every logged exception costs seconds of CPU.
    configure_logging(level="INFO", json=True, service="test", cache_loggers=False)


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


def pytest_sessionstart(session: pytest.Session) -> None:
    """Servers for the run. Under pytest-xdist the controller (which runs no test) starts or
    reuses them, and each worker gets a database and a Redis db of its own."""
    global _stack
    if not ALEMBIC_INI.exists():
        raise pytest.UsageError(f"run the tests from the repository root ({ALEMBIC_INI} missing)")
    worker = _xdist_worker_index(session.config)
    database = TEST_DATABASE if worker is None else f"{TEST_DATABASE}_gw{worker}"
    redis_db = TEST_REDIS_DB if worker is None else TEST_REDIS_DB - worker
    if not 0 < redis_db < 16:
        raise pytest.UsageError(f"Redis db {redis_db}: run fewer workers or raise TEST_REDIS_DB")
    given_db = os.environ.get("TEST_DATABASE_URL")
    given_redis = os.environ.get("TEST_REDIS_URL")
    try:
        _stack = ensure_stack(
            given_db,
            given_redis and _with_redis_db(given_redis, worker),
            database=database,
            redis_db=redis_db,
            # Workers share the controller's servers: two starting one would race.
            reuse_only=worker is not None,
        )
        if _is_xdist_controller(session.config):
            return
        if _stack.postgres is not None:
            _stack.postgres.create_database(database, recreate=True)
        elif worker is not None:
            _stack.database_url = _create_sibling_database(_stack.database_url, worker)
        else:
            _drop_schemas(_stack.database_url, list(migration_histories().values()))
        migrate(_stack.database_url)
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
    """pytest-timeout's signal method, aware of asyncio: most tests here wait in the event loop,
    where a thread dump only shows the selector. On timeout, say where every task waits (the
    test's own await chain first), then fail the test."""
    if settings.method != "signal" or threading.current_thread() is not threading.main_thread():
        return None

    def on_timeout(signum: int, frame: object) -> None:
        __tracebackhide__ = True
        waiting_in_loop = _loop_is_waiting()
        where = describe_waiting_tasks()
        # In the event loop's selector the traceback says nothing: the tasks' await chains are
        # the story. In running code (sync or async), the traceback points at the line.
        pytest.fail(f"Timeout >{settings.timeout}s\n{where}", pytrace=not waiting_in_loop)

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    item.cancel_timeout = cancel  # type: ignore[attr-defined]
    signal.signal(signal.SIGALRM, on_timeout)
    signal.setitimer(signal.ITIMER_REAL, settings.timeout)
    return True


def _loop_is_waiting() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return asyncio.current_task() is None


def describe_waiting_tasks() -> str:
    """Where each task of the running event loop waits: its whole await chain, outermost first,
    and what the innermost await is on (a future, another task). Other threads' stacks follow."""
    parts = []
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        for task in sorted(asyncio.all_tasks(loop), key=lambda t: t.get_name()):
            lines = [f"task {task.get_name()} waits at:"]
            awaited: object = task.get_coro()
            # Task.get_stack() gives one frame for a coroutine; the chain is in cr_await.
            while (frame := _frame_of(awaited)) is not None:
                code = frame.f_code
                lines.append(f"  {code.co_filename}:{frame.f_lineno} in {code.co_name}")
                awaited = _awaited_by(awaited)
            parts.append("\n".join(lines))
    current = threading.get_ident()
    for ident, frame in sys._current_frames().items():
        if ident != current:
            stack = "".join(traceback.format_stack(frame))
            parts.append(f"thread {ident}:\n{stack}")
    return "\n".join(parts) + "\n"


def _frame_of(awaitable: object) -> Any:
    for attribute in ("cr_frame", "gi_frame", "ag_frame"):
        frame = getattr(awaitable, attribute, None)
        if frame is not None:
            return frame
    return None


def _awaited_by(awaitable: object) -> object:
    for attribute in ("cr_await", "gi_yieldfrom", "ag_await"):
        awaited = getattr(awaitable, attribute, None)
        if awaited is not None:
            return awaited
    return None


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
    The previous configuration is put back afterwards."""
    configure_logging(level="INFO", json=True, service="test", cache_loggers=False)

    def read() -> list[str]:
        captured = capsys.readouterr()
        return [line for line in (captured.out + captured.err).splitlines() if line.strip()]

    # The configuration is put back by _logging_put_back, which every test uses.
    yield read


@dataclass
class RunningWorker:
    """An arq worker consuming its queue inside the test's event loop."""

    worker: Worker
    task: asyncio.Task[None]

    async def kill(self) -> None:
        """Stop abruptly, as a killed process would: running jobs are cut off. (arq's own
        ``Worker.close`` re-raises a cut-off job's CancelledError into the caller, which made
        teardowns fail whenever a job was still running.)"""
        self.task.cancel()
        if self.worker.main_task is not None:
            self.worker.main_task.cancel()
        for job in list(self.worker.tasks.values()):
            job.cancel()
        await asyncio.gather(self.task, *self.worker.tasks.values(), return_exceptions=True)
        self.worker.tasks.clear()
        if self.worker.on_shutdown is not None:
            await self.worker.on_shutdown(self.worker.ctx)
        await self.worker.pool.aclose(close_connection_pool=True)


def start_worker(worker_settings: type, *, cron: bool = True) -> RunningWorker:
    """Run a service's worker (its ``WorkerSettings``) in this event loop, polling its queue
    every 10 ms; ``cron=False`` leaves out its periodic jobs."""
    worker = Worker(
        functions=worker_settings.functions,  # type: ignore[attr-defined]
        cron_jobs=worker_settings.cron_jobs if cron else [],  # type: ignore[attr-defined]
        queue_name=worker_settings.queue_name,  # type: ignore[attr-defined]
        redis_settings=worker_settings.redis_settings,  # type: ignore[attr-defined]
        on_startup=worker_settings.on_startup,  # type: ignore[attr-defined]
        on_shutdown=worker_settings.on_shutdown,  # type: ignore[attr-defined]
        max_jobs=50,
        keep_result=0,
        poll_delay=0.01,
        handle_signals=False,
        log_results=False,
    )
    return RunningWorker(worker=worker, task=asyncio.create_task(worker.async_run()))


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
