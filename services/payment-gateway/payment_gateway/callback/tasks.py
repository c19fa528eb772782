"""Jobs that process stored callbacks, and the sweep for those nobody processed."""

from __future__ import annotations

from typing import Any

from arq.worker import Retry

from payment_gateway import metrics
from payment_gateway.callback import service
from payment_gateway.config import Settings
from payment_gateway.payment import service as payment_service
from payment_gateway.tasks import task
from shared.db import utcnow
from shared.worker import task_session

PROCESS_MAX_TRIES = 5


@task(service.PROCESS_TASK, max_tries=PROCESS_MAX_TRIES)
async def process(ctx: dict[str, Any], inbox_id: int) -> str:
    """Apply one stored callback (a no-op if it was applied already)."""
    settings: Settings = ctx["settings"]
    confirmation = None
    if settings.CALLBACK_CONFIRM_BY_QUERY:
        # Asked before the payment row is locked: no lock is held while Daraja answers.
        async with task_session(ctx) as session:
            checkout_request_id = await service.success_to_confirm(session, inbox_id=inbox_id)
        if checkout_request_id is not None:
            answer = await payment_service.query(ctx["daraja"], checkout_request_id)
            final = ctx.get("job_try", 1) >= PROCESS_MAX_TRIES
            confirmation = service.Confirmation(answer=answer, final_attempt=final)
    try:
        async with task_session(ctx) as session:
            processed = await service.process(
                session, inbox_id=inbox_id, settings=settings, confirmation=confirmation
            )
    except service.ConfirmationPending:
        raise Retry(defer=settings.scaled(settings.CALLBACK_CONFIRM_RETRY_S)) from None
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
