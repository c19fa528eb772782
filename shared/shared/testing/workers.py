"""A service's arq worker run inside the test's (or benchmark's) event loop."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from types import CoroutineType, FrameType
from typing import Any

import structlog
from arq.constants import in_progress_key_prefix
from arq.worker import Worker

log = structlog.get_logger(__name__)

# The workers running in this process, so a wait that times out can say what they were doing.
_running: list[RunningWorker] = []


@dataclass
class RunningWorker:
    """An arq worker consuming its queue inside the test's event loop."""

    worker: Worker
    task: asyncio.Task[None]

    async def kill(self) -> None:
        """Stop abruptly, as a killed process would: running jobs are cut off. (arq's own
        ``Worker.close`` re-raises a cut-off job's CancelledError into the caller, which made
        teardowns fail whenever a job was still running.)"""
        if self in _running:
            _running.remove(self)
        self.task.cancel()
        if self.worker.main_task is not None:
            self.worker.main_task.cancel()
        for job in list(self.worker.tasks.values()):
            job.cancel()
        await asyncio.gather(self.task, *self.worker.tasks.values(), return_exceptions=True)
        self.worker.tasks.clear()
        if self.worker.on_shutdown is not None:
            await self.worker.on_shutdown(self.worker.ctx)
        await self.worker.pool.aclose(close_connection_pool=True)


def start_worker(worker_settings: type, *, cron: bool = True) -> RunningWorker:
    """Run a service's worker (its ``WorkerSettings``) in this event loop, polling its queue
    every 10 ms; ``cron=False`` leaves out its periodic jobs."""
    worker = Worker(
        functions=worker_settings.functions,  # type: ignore[attr-defined]
        cron_jobs=worker_settings.cron_jobs if cron else [],  # type: ignore[attr-defined]
        queue_name=worker_settings.queue_name,  # type: ignore[attr-defined]
        redis_settings=worker_settings.redis_settings,  # type: ignore[attr-defined]
        on_startup=worker_settings.on_startup,  # type: ignore[attr-defined]
        on_shutdown=worker_settings.on_shutdown,  # type: ignore[attr-defined]
        max_jobs=50,
        keep_result=0,
        poll_delay=0.01,
        handle_signals=False,
        log_results=False,
    )
    task = asyncio.create_task(worker.async_run())
    task.add_done_callback(_report_unexpected_end)
    running = RunningWorker(worker=worker, task=task)
    _running.append(running)
    return running


def check_running() -> None:
    """Fail at once when a worker this process started has stopped on its own: whatever the test
    waits for will not happen."""
    for running in _in_this_loop():
        if running.task.done() and not running.task.cancelled():
            error = running.task.exception()
            raise AssertionError(f"the {running.worker.queue_name} worker stopped: {error!r}")


async def describe_running() -> str:
    """What each running worker is doing: its poll loop's and each job's await chain, and its
    queue as Redis holds it. Printed when a wait times out, to tell a stalled worker from a job
    that never was enqueued."""
    lines = []
    for running in _in_this_loop():
        worker = running.worker
        lines.append(
            f"worker {worker.queue_name}: done={running.task.done()} "
            f"job_counter={worker.job_counter} complete={worker.jobs_complete} "
            f"failed={worker.jobs_failed} retried={worker.jobs_retried}"
        )
        if worker.main_task is not None:
            lines.append(f"  poll loop at {_await_chain(worker.main_task)}")
        for job_id, job in worker.tasks.items():
            lines.append(f"  job {job_id} at {_await_chain(job)}")
        try:
            lines.extend(await _queue_state(worker))
        except Exception as e:
            # A diagnostic must not hide the timeout it explains.
            lines.append(f"  queue unreadable: {e!r}")
    return "\n".join(lines)


def _in_this_loop() -> list[RunningWorker]:
    """Workers of this test's event loop (one left behind by an earlier test is forgotten)."""
    loop = asyncio.get_running_loop()
    _running[:] = [running for running in _running if not running.task.get_loop().is_closed()]
    return [running for running in _running if running.task.get_loop() is loop]


def _await_chain(task: asyncio.Task[Any]) -> str:
    if task.done():
        return "done"
    places = []
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame: FrameType | None = getattr(awaited, "cr_frame", None) or getattr(
            awaited, "gi_frame", None
        )
        if frame is not None:
            places.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
        awaited = (
            awaited.cr_await
            if isinstance(awaited, CoroutineType)
            else getattr(awaited, "gi_yieldfrom", None)
        )
    return " > ".join(places) or "?"


async def _queue_state(worker: Worker) -> list[str]:
    now_ms = time.time() * 1000
    queued = await worker.pool.zrange(worker.queue_name, 0, 20, withscores=True)
    lines = [
        f"  queued {job_id.decode()} due in {(score - now_ms) / 1000:+.2f}s"
        for job_id, score in queued
    ]
    in_progress = await worker.pool.keys(in_progress_key_prefix + "*")
    lines.extend(f"  in progress {key.decode()}" for key in in_progress[:20])
    return lines or ["  queue empty, nothing in progress"]


def _report_unexpected_end(task: asyncio.Task[None]) -> None:
    """A worker whose loop ends on its own consumes nothing more, and the test would only see a
    wait time out: say so, with the error, in the test's captured log."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("test_worker_stopped", error=repr(error), exc_info=error)
