"""What every benchmark needs of the platform: the servers `make bench` gives it, the gateway's
settings as environment variables, its worker as deployed, and clean-up of its Redis keys.
Processes and scratch databases come from the test harness (``shared.testing``)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shared.testing.processes import environment, python_process
from shared.webhook_signing import DEV_WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parent.parent


def base_urls() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        sys.exit("set DATABASE_URL and REDIS_URL (make bench does)")
    return database_url, redis_url


def plain(url: str) -> str:
    """asyncpg wants postgresql://, SQLAlchemy's URL says postgresql+asyncpg://."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def use_uvloop() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass


def gateway_env(
    database_url: str,
    redis_url: str,
    namespace: str,
    *,
    sink: str = "http://127.0.0.1:9/events",
    **settings: Any,
) -> dict[str, str]:
    """A gateway process's environment: quiet, its own namespace, one subscriber (as in
    production: each callback writes a delivery row and queues a job), plus ``settings``."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
        **environment(
            "GATEWAY_",
            NAMESPACE=namespace,
            STATS_REFRESH_S=3600,
            # The load generator stands in for Safaricom, on its allow-list: its callbacks are
            # believed without asking a Daraja the benchmark does not run.
            CALLBACK_ALLOWED_CIDRS="127.0.0.1/32",
            WEBHOOK_ENDPOINTS=[{"url": sink, "secret": DEV_WEBHOOK_SECRET}],
            # One load generator is one address and one key: the limiters still run (their cost
            # is measured) at limits it never reaches.
            CALLBACK_RATE_LIMIT_PER_IP="1000000/second",
            SERVICE_KEY_RATE_LIMIT="1000000/second",
            **settings,
        ),
    }


@contextlib.contextmanager
def gateway_worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m payment_gateway.worker`, as deployed. arq prints the cancellation of in-flight
    jobs on SIGTERM; the figures say what matters, so its output is dropped."""
    with python_process(["-m", "payment_gateway.worker"], env, cwd=ROOT, quiet=True) as worker:
        yield worker


async def drop_redis_namespace(redis_url: str, namespace: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        keys = [k async for k in redis.scan_iter(f"*{namespace}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
