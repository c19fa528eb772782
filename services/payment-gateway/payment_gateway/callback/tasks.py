"""Jobs that process stored callbacks, and the sweep for those nobody processed."""

from __future__ import annotations

from typing import Any

import structlog
from arq.worker import Retry

from payment_gateway import metrics
from payment_gateway.callback import service
from payment_gateway.callback.apply import ConfirmationPending
from payment_gateway.callback.proof import Confirmation
from payment_gateway.config import Settings
from payment_gateway.payment import monitoring
from payment_gateway.tasks import registry
from shared.db import utcnow
from shared.worker import backoff_seconds, task_session

log = structlog.get_logger(__name__)

# arq's own ceiling on retries of one job. The real bound is the attempt counter on the inbox row
# (GATEWAY_CALLBACK_PROCESS_MAX_ATTEMPTS): it survives restarts and sweeps, which start new jobs.
PROCESS_JOB_MAX_TRIES = 25


# Long enough for an STK Query with its own retries (DARAJA_READ_TIMEOUT_S each) to finish.
@registry.task(service.PROCESS_TASK, max_tries=PROCESS_JOB_MAX_TRIES, timeout_s=120)
async def process(ctx: dict[str, Any], inbox_id: int) -> str:
    """Apply one stored callback (a no-op if it was applied already); a bounded number of
    attempts, the last of which always leaves the callback in a final state."""
    settings: Settings = ctx["settings"]
    async with task_session(ctx) as session:
        attempt = await service.start_attempt(session, inbox_id=inbox_id, settings=settings)
    if attempt is None:
        return "already_processed"
    if attempt.number > settings.CALLBACK_PROCESS_MAX_ATTEMPTS:
        return await _give_up(ctx, inbox_id, attempt, "no attempts left")
    confirmation = None
    if attempt.query is not None:
        # Asked before the payment row is locked: no lock is held while Daraja answers. Asked
        # in the payment's own environment: after a switch, a payment made in the sandbox is
        # still confirmed by the sandbox.
        clients = ctx["daraja"]
        daraja = await (
            clients.for_environment(attempt.environment)
            if attempt.environment
            else clients.active()
        )
        answer = await monitoring.query(daraja, checkout_request_id=attempt.query)
        confirmation = Confirmation(checkout_request_id=attempt.query, answer=answer)
    try:
        async with task_session(ctx) as session:
            processed = await service.process(
                session,
                inbox_id=inbox_id,
                settings=settings,
                confirmation=confirmation,
                final_attempt=attempt.final,
            )
    except ConfirmationPending:
        raise Retry(defer=_backoff(settings, attempt)) from None
    except Exception as e:
        if attempt.final:
            return await _give_up(ctx, inbox_id, attempt, f"{type(e).__name__}: {e}")
        # A receipt another payment took a moment ago, a lost connection: the next attempt
        # sees the committed state.
        log.warning(
            "callback_attempt_failed", callback_id=inbox_id, attempt=attempt.number, error=str(e)
        )
        raise Retry(defer=_backoff(settings, attempt)) from e
    if processed is None:
        return "already_processed"
    if processed.settled:
        metrics.CALLBACK_TO_SETTLE.observe((utcnow() - processed.received_at).total_seconds())
    return processed.outcome


def _backoff(settings: Settings, attempt: service.Attempt) -> float:
    return settings.scaled(
        backoff_seconds(attempt.number, base_s=settings.CALLBACK_CONFIRM_RETRY_S)
    )


async def _give_up(ctx: dict[str, Any], inbox_id: int, attempt: service.Attempt, error: str) -> str:
    async with task_session(ctx) as session:
        await service.give_up(session, inbox_id=inbox_id, attempts=attempt.number, error=error)
    return "error"


@registry.task("callback.sweep", max_tries=1)
async def sweep(ctx: dict[str, Any]) -> int:
    """Re-enqueue stored callbacks that were never processed."""
    async with task_session(ctx) as session:
        return await service.requeue_unprocessed(session, settings=ctx["settings"])
