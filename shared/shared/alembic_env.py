"""The body of every alembic ``env.py``: each service's history lives in its own schema, with its
own version table there, run through the async engine."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.devstack.servers import embedded_database_url


def _include_name(schema: str) -> Any:
    def include(name: str | None, type_: str, parent_names: object) -> bool:
        if type_ == "schema":
            return name == schema
        return True

    return include


def run(metadata: MetaData) -> None:
    schema = metadata.schema
    assert schema, "each service's metadata names its schema"
    url = os.environ.get("DATABASE_URL") or embedded_database_url()
    if context.config.config_file_name is not None:
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)

    def configure(connection: Connection | None = None, **kwargs: object) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=_include_name(schema),
            compare_type=True,
            **kwargs,  # type: ignore[arg-type]
        )

    if context.is_offline_mode():
        configure(url=url, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        configure(connection)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        # Data migrations touch user tables: a failure must not print their rows.
        engine = create_async_engine(url, poolclass=NullPool, hide_parameters=True)
        async with engine.begin() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run_async())
