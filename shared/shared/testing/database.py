"""The test databases: every alembic history in ``migrations/alembic.ini`` applied to a fresh
database, one database per pytest-xdist worker, and emptying tables between tests that commit.
The benchmarks' scratch databases are made the same way."""

from __future__ import annotations

import asyncio
import configparser
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

ALEMBIC_INI = Path("migrations/alembic.ini")
MIGRATE_TIMEOUT_S = 300


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


def with_redis_db(url: str, db: int) -> str:
    """The Redis URL with another db number."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def redis_db_of(url: str) -> int:
    return int(urlsplit(url).path.strip("/") or 0)


async def recreate_database(database_url: str, name: str) -> str:
    """A fresh, empty database ``name`` on the server of ``database_url``; its URL."""
    url = make_url(database_url)
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_database(database_url: str) -> None:
    """Drop the database ``database_url`` names (connected through its server's own database)."""
    url = make_url(database_url)
    engine = create_async_engine(
        url.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def create_sibling_database(database_url: str, worker: int) -> str:
    """A fresh database beside the given one for one xdist worker; its URL."""
    name = f"{make_url(database_url).database}_gw{worker}"
    return asyncio.run(recreate_database(database_url, name))


@asynccontextmanager
async def scratch_database(database_url: str, suffix: str) -> AsyncIterator[str]:
    """A fresh database beside the given one (its name plus ``suffix``), migrated, dropped
    afterwards; yields its URL."""
    name = f"{make_url(database_url).database or 'postgres'}{suffix}"
    url = await recreate_database(database_url, name)
    try:
        await asyncio.to_thread(migrate, url)
        yield url
    finally:
        await drop_database(url)


def drop_schemas(database_url: str, schemas: list[str]) -> None:
    async def drop() -> None:
        engine = create_async_engine(database_url, poolclass=NullPool)
        async with engine.begin() as connection:
            for schema in schemas:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()

    asyncio.run(drop())


async def truncate_tables(engine: AsyncEngine) -> None:
    """Empty every table in the migrated schemas.

    A shared stack of the same test process may be reading several of these tables in one
    transaction meanwhile (its gauges, its worker); TRUNCATE takes its locks table by table, so
    PostgreSQL can pick it as a deadlock's victim. The other side's transaction is short: try
    again."""
    for attempt in range(1, 6):
        try:
            await _truncate(engine)
            return
        except DBAPIError as e:
            if "deadlock detected" not in str(e.orig) or attempt == 5:
                raise


async def _truncate(engine: AsyncEngine) -> None:
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
