"""Database base: naming convention, timestamp mixin, engine, sessions and the request session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared import worker

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


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: commit when the endpoint returns, roll back when it raises.

    Jobs the request enqueued (``shared.worker.enqueue_after_commit``) go to Redis only after the
    commit, so a worker never sees a row that does not exist yet.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            worker.discard_pending_jobs(session)
            raise
        else:
            await session.commit()
            await worker.flush_pending_jobs(session, request.app.state.arq)


# scope="function": commit before the response is sent. FastAPI's default ("request") would run
# the commit after the client already has its 201, and a failed commit could not change it.
SessionDep = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
