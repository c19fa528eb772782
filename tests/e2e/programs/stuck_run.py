"""A test that never ends on its own, for tests/e2e/test_interrupts.py to run under `make test`
and interrupt. Not collected by the suite itself (its name does not start with test_)."""

import asyncio
import os
from pathlib import Path

from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.testing import serve_app


async def test_waits_for_ever(db_session: AsyncSession, redis_client: Redis) -> None:
    # Holding a database connection, a Redis connection and a served app, like the suite's
    # whole-flow tests do when they wait.
    async with serve_app(FastAPI()):
        Path(os.environ["STUCK_RUN_MARKER"]).write_text(str(os.getpid()))  # noqa: ASYNC240
        await asyncio.Event().wait()
