"""Database base: naming convention, timestamp mixins, engine, sessions and the unit of work.

The unit of work is the one transaction pattern of both services: a request, a task or a CLI
command opens a session with ``unit_of_work``; it commits when the block ends and rolls back when
it raises, and the jobs it queued (``shared.jobs``) go to arq only after the commit. Code never
calls ``session.commit()`` itself. The one exception is *commit, then call out*: a service that
must call another system (Daraja, the gateway) commits what it has decided with ``commit`` first,
so no row lock or connection is held while the other side answers, and records the answer in a
second transaction that the unit of work commits as usual."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from arq.connections import ArqRedis
from fastapi import Depends, Request
from sqlalchemy import CheckConstraint, DateTime, MetaData, func
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared import jobs

NAMING_CONVENTION = {
    "ix": "%(column_0_label)s_idx",
    "uq": "%(table_name)s_%(column_0_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


def make_metadata(schema: str) -> MetaData:
    """One metadata per service, each in its own PostgreSQL schema."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def check_in(column: str, values: Iterable[str]) -> CheckConstraint:
    """``column IN (...)``, named after the column (the naming convention adds the table), so the
    migrations can name it too. ``values``: an enum class of strings, or the strings."""
    listed = ", ".join("'" + str(value).replace("'", "''") + "'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        nullable=False,
        server_default=func.now(),
        default=utcnow,
        onupdate=utcnow,
    )


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), default=utcnow
    )


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 20, connect_timeout_s: float = 5.0
) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        connect_args={"timeout": connect_timeout_s},
        # A statement error's text would otherwise carry its parameters (e-mail addresses,
        # password hashes, phone numbers) into whatever logs it.
        hide_parameters=True,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def commit(session: AsyncSession) -> None:
    """Commit, then send the jobs queued so far. Only a unit of work's end and the *commit, then
    call out* step call this."""
    await session.commit()
    await jobs.send(session)


@asynccontextmanager
async def unit_of_work(
    session: AsyncSession, arq: ArqRedis | None, *, savepoint: bool = False
) -> AsyncIterator[AsyncSession]:
    """Commit when the block ends, roll back (and drop queued jobs) when it raises.

    ``savepoint=True`` runs the unit inside a SAVEPOINT of a session that is already in a
    transaction (the tests' rolled-back session), so a failure undoes only this unit."""
    jobs.bind(session, arq)
    nested = await session.begin_nested() if savepoint else None
    try:
        yield session
    except BaseException:
        if nested is not None and nested.is_active:
            await nested.rollback()
        else:
            await session.rollback()
        jobs.discard(session)
        raise
    else:
        if nested is not None and nested.is_active:
            await nested.commit()
        await commit(session)


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session, unit_of_work(session, request.app.state.arq):
        yield session


# scope="function": commit before the response is sent. FastAPI's default ("request") would run
# the commit after the client already has its 201, and a failed commit could not change it.
SessionDep = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
