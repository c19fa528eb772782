"""The pieces every service's app factory assembles: middleware, error handlers, health routes
and the infrastructure clients its lifespan builds and closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared import db
from shared.errors import document_errors, install_error_handlers
from shared.health import ReadinessCheck, health_router, postgres_check, redis_check
from shared.http import RequestContextMiddleware
from shared.schemas import resolve_setting_limits
from shared.settings import BaseServiceSettings

QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def create_base_app(*, title: str, version: str, description: str, lifespan: object) -> FastAPI:
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,  # type: ignore[arg-type]
    )
    app.add_middleware(RequestContextMiddleware, quiet_paths=QUIET_PATHS)
    install_error_handlers(app)
    app.include_router(health_router())
    _document_what_it_does(app)
    return app


def _document_what_it_does(app: FastAPI) -> None:
    """The OpenAPI document shows the error bodies the handlers send and the limits this
    deployment's settings (``app.state.settings``) enforce."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()  # FastAPI caches it on the app; it is completed in place
        document_errors(document)
        settings = getattr(app.state, "settings", None)
        if settings is not None:
            resolve_setting_limits(document, settings)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


@dataclass
class Infrastructure:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    arq: ArqRedis


@asynccontextmanager
async def infrastructure(
    app: FastAPI, settings: BaseServiceSettings, *, queue_name: str
) -> AsyncIterator[Infrastructure]:
    """Build the database engine, a Redis client and an arq pool; put them on ``app.state``
    with the readiness checks; close them all on the way out.

    Nothing here connects eagerly, so a service starts (and reports not-ready) while a
    dependency is down.
    """
    engine = db.create_engine(
        settings.DATABASE_URL,
        pool_size=settings.DATABASE_POOL_SIZE,
        max_overflow=settings.DATABASE_MAX_OVERFLOW,
        connect_timeout_s=settings.DATABASE_CONNECT_TIMEOUT_S,
    )
    redis: Redis = Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.READINESS_TIMEOUT_S,
        socket_timeout=10,
    )
    arq = ArqRedis(connection_pool=redis.connection_pool, default_queue_name=queue_name)
    infra = Infrastructure(
        engine=engine, sessionmaker=db.create_sessionmaker(engine), redis=redis, arq=arq
    )
    app.state.engine = engine
    app.state.sessionmaker = infra.sessionmaker
    app.state.redis = redis
    app.state.arq = arq
    readiness: dict[str, ReadinessCheck] = {
        "postgres": postgres_check(engine),
        "redis": redis_check(redis),
    }
    app.state.readiness = readiness
    app.state.readiness_timeout_s = settings.READINESS_TIMEOUT_S
    try:
        yield infra
    finally:
        await redis.aclose()
        await engine.dispose()
