"""Reconciliation jobs: a run, step by step (one unit of work each); the daily run over the
preceding day; the hourly Pull run; and the sweep that restarts runs whose job was lost."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog
from arq.worker import Retry

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import NAIROBI
from payment_gateway.models import RecordSource, RunStatus
from payment_gateway.reconciliation import c2b, runs, service, status
from payment_gateway.reconciliation.exceptions import ResultsPending, SourceUnavailable
from payment_gateway.tasks import registry
from shared.db import utcnow
from shared.worker import backoff_seconds, task_session

log = structlog.get_logger(__name__)

SYSTEM = "gateway-worker"
# arq's ceiling on tries of one run's job; `RECONCILIATION_RUN_MAX_TRIES` (at most this) is
# when a run whose source stays unavailable gives up and ends `failed`.
RUN_MAX_TRIES = 100
# A run of a million statement lines takes minutes; a job cut off here is restarted by the
# sweep from its checkpoint.
RUN_TIMEOUT_S = 3600


@registry.task(service.RUN_TASK, max_tries=RUN_MAX_TRIES, timeout_s=RUN_TIMEOUT_S)
async def run(ctx: dict[str, Any], run_id: str) -> str:
    """Take steps of a run until it ends; resumable from its checkpoint at any point."""
    settings: Settings = ctx["settings"]
    while True:
        try:
            async with task_session(ctx) as session:
                status = await runs.advance(
                    session,
                    run_id=uuid.UUID(run_id),
                    settings=settings,
                    daraja=await ctx["daraja"].active(),
                )
        except ResultsPending as e:
            log.info("reconciliation_waiting", run_id=run_id, why=str(e))
            await asyncio.sleep(settings.scaled(settings.RECONCILIATION_STATUS_POLL_S))
            continue
        except SourceUnavailable as e:
            tries = ctx.get("job_try", 1)
            if tries >= settings.RECONCILIATION_RUN_MAX_TRIES:
                async with task_session(ctx) as session:
                    return await runs.give_up(
                        session, run_id=uuid.UUID(run_id), error=f"{e} (after {tries} tries)"
                    )
            delay = settings.scaled(
                backoff_seconds(ctx.get("job_try", 1), base_s=settings.RECONCILIATION_RETRY_S)
            )
            log.warning("reconciliation_source_unavailable", run_id=run_id, error=str(e))
            raise Retry(defer=delay) from e
        if status in (RunStatus.completed, RunStatus.failed):
            return status


@registry.task(status.RESULT_TASK, max_tries=5, timeout_s=60)
async def result(ctx: dict[str, Any], inbox_id: int) -> str | None:
    """Apply one stored Transaction Status result (a no-op if applied already)."""
    async with task_session(ctx) as session:
        return await status.process(session, inbox_id=inbox_id, settings=ctx["settings"])


@registry.task(c2b.C2B_TASK, max_tries=5, timeout_s=60)
async def c2b_confirmation(ctx: dict[str, Any], inbox_id: int) -> str | None:
    """Record one stored C2B confirmation and settle the payment it proves."""
    async with task_session(ctx) as session:
        return await c2b.process(session, inbox_id=inbox_id, settings=ctx["settings"])


def daily_window(now: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """The `RECONCILIATION_DAILY_WINDOW_H` hours before today's run time in Nairobi."""
    local = now.astimezone(NAIROBI)
    end = local.replace(
        hour=settings.RECONCILIATION_DAILY_HOUR,
        minute=settings.RECONCILIATION_DAILY_MINUTE,
        second=0,
        microsecond=0,
    )
    if end > local:
        end -= timedelta(days=1)
    return end - timedelta(hours=settings.RECONCILIATION_DAILY_WINDOW_H), end


async def daily(ctx: dict[str, Any]) -> str:
    """The daily run over the preceding day (a second start the same day finds the same run)."""
    settings: Settings = ctx["settings"]
    start, end = daily_window(utcnow(), settings)
    async with task_session(ctx) as session:
        found = await service.request_run(
            session,
            start=start,
            end=end,
            sources=settings.RECONCILIATION_DAILY_SOURCES,
            requested_by=SYSTEM,
            settings=settings,
        )
        return str(found.id)


async def hourly_pull(ctx: dict[str, Any]) -> str | None:
    """Pull over the last `RECONCILIATION_PULL_WINDOW_H` hours, on whole hours; skipped while
    the previous Pull run is still going."""
    settings: Settings = ctx["settings"]
    end = utcnow().replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=settings.RECONCILIATION_PULL_WINDOW_H)
    async with task_session(ctx) as session:
        if await service.pull_run_in_progress(session):
            log.info("reconciliation_pull_skipped", reason="the previous Pull run is running")
            return None
        found = await service.request_run(
            session,
            start=start,
            end=end,
            sources=[RecordSource.pull],
            requested_by=SYSTEM,
            settings=settings,
        )
        return str(found.id)


async def resume(ctx: dict[str, Any]) -> int:
    """Re-enqueue runs left queued or running whose job was lost (the job id makes a live
    job's duplicate a no-op)."""
    settings: Settings = ctx["settings"]
    async with task_session(ctx) as session:
        return await service.resume_stalled(session, settings=settings)
