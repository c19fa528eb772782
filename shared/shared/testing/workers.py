"""A service's arq worker run inside the test's (or benchmark's) event loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from arq.worker import Worker

log = structlog.get_logger(__name__)


@dataclass
class RunningWorker:
    """An arq worker consuming its queue inside the test's event loop."""

    worker: Worker
    task: asyncio.Task[None]

    async def kill(self) -> None:
        """Stop abruptly, as a killed process would: running jobs are cut off. (arq's own
        ``Worker.close`` re-raises a cut-off job's CancelledError into the caller, which made
        teardowns fail whenever a job was still running.)"""
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
    return RunningWorker(worker=worker, task=task)


def _report_unexpected_end(task: asyncio.Task[None]) -> None:
    """A worker whose loop ends on its own consumes nothing more, and the test would only see a
    wait time out: say so, with the error, in the test's captured log."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("test_worker_stopped", error=repr(error), exc_info=error)
