"""Jobs that process stored callbacks whose inline processing failed or was interrupted."""

from __future__ import annotations

from typing import Any

from payment_gateway import metrics
from payment_gateway.callback import service
from payment_gateway.tasks import task
from shared.db import utcnow
from shared.worker import task_session


@task(service.PROCESS_TASK, max_tries=5)
async def process(ctx: dict[str, Any], inbox_id: int) -> str:
    """Apply one stored callback (a no-op if it was applied already)."""
    async with task_session(ctx) as session:
        processed = await service.process(session, inbox_id=inbox_id, settings=ctx["settings"])
    if processed is None:
        return "already_processed"
    if processed.settled:
        metrics.CALLBACK_TO_SETTLE.observe((utcnow() - processed.received_at).total_seconds())
    return processed.outcome


@task("callback.sweep", max_tries=1)
async def sweep(ctx: dict[str, Any]) -> int:
    """Re-enqueue stored callbacks that were never processed."""
    async with task_session(ctx) as session:
        return await service.requeue_unprocessed(session, settings=ctx["settings"])
