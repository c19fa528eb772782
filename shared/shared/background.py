"""Long-lived asyncio tasks that an app or worker starts with itself and must be able to stop.

Python 3.11's ``asyncio.wait_for`` (which redis-py uses for its socket timeout) returns the
result instead of raising when a cancellation lands in the same loop iteration as the reply
(CPython gh-86296, fixed in 3.12). A loop that runs until cancelled then carries on with its
cancellation swallowed, and whoever awaits it waits forever: this is how a test of the gateway's
lifespan once hung a whole test run. The task still counts the request (``Task.cancelling()``),
so loops here check it after each step, and stopping a task is bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)

STOP_GRACE_S = 5.0


def raise_if_cancelled() -> None:
    """Honour a cancellation that a library swallowed on the way."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def run_every(step: Callable[[], Awaitable[object]], *, every_s: float, what: str) -> None:
    """Run ``step`` now and then every ``every_s`` seconds until cancelled. A step that raises is
    logged and the loop goes on: a database or Redis blip must not end it."""
    while True:
        try:
            await step()
        except Exception as e:
            log.warning("background_step_failed", what=what, error=str(e))
        raise_if_cancelled()
        await asyncio.sleep(every_s)


async def stop_task(task: asyncio.Task[object], *, grace_s: float = STOP_GRACE_S) -> bool:
    """Cancel ``task`` and wait at most ``grace_s`` for it to end. Returns whether it ended; a
    task that outlives the grace is logged and left behind rather than blocking shutdown."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=grace_s)
    if not done:
        log.error("background_task_did_not_stop", task=task.get_name(), grace_s=grace_s)
        return False
    if not task.cancelled() and task.exception() is not None:
        log.error("background_task_failed", task=task.get_name(), exc_info=task.exception())
    return True
