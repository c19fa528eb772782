"""Waiting for what another task or process makes true: polling is the only way to observe
another process, and a timeout fails the test naming what it waited for."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from shared.testing import workers

# How long a wait lasts unless a test says otherwise. It ends as soon as its condition holds, so
# a generous bound costs a passing test nothing, and a loaded machine (two cores, several test
# processes) is not mistaken for a stalled system.
WAIT_S = 30.0


async def wait_until(
    check: Callable[[], Awaitable[Any]],
    *,
    within: float = WAIT_S,
    what: str = "condition",
    interval_s: float = 0.01,
) -> Any:
    """Await a condition that another task or process makes true (a worker job, a simulated
    customer, a served app) and return the first truthy value ``check`` gives."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        workers.check_running()
        if time.monotonic() > deadline:
            await _timed_out(within, what)
        await asyncio.sleep(interval_s)


async def wait_for_change(
    changed: asyncio.Event,
    check: Callable[[], Awaitable[Any]],
    *,
    within: float = WAIT_S,
    what: str = "condition",
) -> Any:
    """As :func:`wait_until`, for state this event loop changes: ``check`` runs again whenever
    ``changed`` is set (and at least every 0.25 s), instead of on a fixed interval."""
    deadline = time.monotonic() + within
    while True:
        changed.clear()
        value = await check()
        if value:
            return value
        workers.check_running()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            await _timed_out(within, what)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout=min(remaining, 0.25))


async def _timed_out(within: float, what: str) -> None:
    state = await workers.describe_running()
    raise AssertionError(f"timed out after {within}s waiting for {what}\n{state}".rstrip())
