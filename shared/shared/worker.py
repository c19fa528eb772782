"""arq helpers: task registration, jittered exponential backoff, the task's unit of work, and the
worker settings every service's worker builds on."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.worker import Function, func
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import db

if TYPE_CHECKING:
    from shared.settings import BaseServiceSettings

TaskFn = TypeVar("TaskFn", bound=Callable[..., Awaitable[Any]])


@dataclass
class TaskRegistry:
    """Collects a service's jobs so its worker lists them in one place."""

    functions: list[Function] = field(default_factory=list)

    def task(
        self, name: str, *, max_tries: int = 5, timeout_s: float = 60.0
    ) -> Callable[[TaskFn], TaskFn]:
        def decorate(fn: TaskFn) -> TaskFn:
            self.functions.append(
                func(fn, name=name, max_tries=max_tries, timeout=timeout_s)  # type: ignore[arg-type]
            )
            return fn

        return decorate


def backoff_seconds(
    attempt: int,
    *,
    base_s: float = 1.0,
    cap_s: float = 3600.0,
    rng: random.Random | None = None,
) -> float:
    """Jittered exponential backoff: a uniform delay between a tenth of and the whole ceiling
    ``min(cap, base * 2**(attempt-1))``, so retries spread out but never fire back to back."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap_s, base_s * 2 ** min(attempt - 1, 62))
    draw = (rng or random).uniform(ceiling / 10, ceiling)
    return draw


@asynccontextmanager
async def task_session(ctx: dict[str, Any]) -> AsyncIterator[AsyncSession]:
    """One unit of work per task (``shared.db.unit_of_work``)."""
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    async with sessionmaker() as session, db.unit_of_work(session, ctx["redis"]):
        yield session


async def ping(ctx: dict[str, Any]) -> str:
    """A job every worker runs, so operators (and tests) can prove a worker consumes its queue."""
    return "pong"


def build_worker_settings(
    settings: BaseServiceSettings,
    *,
    registry: TaskRegistry,
    queue_name: str,
    cron_jobs: list[CronJob] | None = None,
    on_startup: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    on_shutdown: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    max_jobs: int = 20,
) -> type:
    """An arq ``WorkerSettings`` class whose context holds ``settings``, ``engine`` and
    ``sessionmaker`` (plus whatever ``on_startup`` adds)."""

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["engine"] = db.create_engine(
            settings.DATABASE_URL,
            pool_size=settings.DATABASE_POOL_SIZE,
            max_overflow=settings.DATABASE_MAX_OVERFLOW,
            connect_timeout_s=settings.DATABASE_CONNECT_TIMEOUT_S,
        )
        ctx["sessionmaker"] = db.create_sessionmaker(ctx["engine"])
        if on_startup is not None:
            await on_startup(ctx)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if on_shutdown is not None:
            await on_shutdown(ctx)
        await ctx["engine"].dispose()

    return type(
        "WorkerSettings",
        (),
        {
            "functions": [func(ping, name="worker.ping", max_tries=1), *registry.functions],
            "cron_jobs": list(cron_jobs or []),
            "queue_name": queue_name,
            "redis_settings": worker_redis_settings(settings),
            "on_startup": startup,
            "on_shutdown": shutdown,
            "max_jobs": max_jobs,
            "handle_signals": True,
            "health_check_interval": 30,
        },
    )


def worker_redis_settings(settings: BaseServiceSettings) -> RedisSettings:
    """Redis as the worker uses it. arq's own defaults (a 1 s connect timeout, no retry of a
    command) end the worker's poll loop on the first slow connection of a busy moment; a blip
    is retried with backoff instead, and only a lasting outage stops the worker."""
    redis_settings = RedisSettings.from_dsn(settings.REDIS_URL)
    redis_settings.conn_timeout = settings.WORKER_REDIS_CONNECT_TIMEOUT_S
    redis_settings.retry_on_timeout = True
    redis_settings.retry_on_error = [RedisConnectionError, RedisTimeoutError]
    redis_settings.retry = Retry(
        ExponentialWithJitterBackoff(base=0.05, cap=2.0), settings.WORKER_REDIS_RETRIES
    )
    return redis_settings


def run_worker(worker_settings: type) -> None:
    """Entry point of ``python -m <package>.worker``."""
    from arq.worker import run_worker as arq_run_worker

    arq_run_worker(worker_settings)
