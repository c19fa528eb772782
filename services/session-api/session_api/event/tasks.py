"""Attempts whose events look overdue are read back from the gateway.

The gateway retries its events for days, so for a status this is a safety net (a receiver that was
misconfigured or down for longer). It is the normal path for a receipt that arrived after the
payment settled on a status query: the gateway records it without sending an event.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from session_api.config import Settings
from session_api.event import service as event_service
from session_api.integrations.gateway import GatewayClient, GatewayError
from session_api.models import EventOutcome
from session_api.payment.repository import PaymentAttemptRepository
from session_api.tasks import registry
from shared.worker import task_session

log = structlog.get_logger(__name__)


@registry.task("payment.refresh_stale_attempts", max_tries=1, timeout_s=120)
async def refresh_stale_attempts(ctx: dict[str, Any]) -> int:
    """Read back from the gateway every attempt still processing after `STALE_ATTEMPT_AFTER_S`
    or paid without a receipt after `RECEIPT_BACKFILL_AFTER_S`; returns how many changed."""
    settings: Settings = ctx["settings"]
    gateway: GatewayClient = ctx["gateway"]
    now = datetime.now(UTC)
    async with task_session(ctx) as session:
        stale = await PaymentAttemptRepository.from_session(session).needing_refresh(
            processing_before=now - timedelta(seconds=settings.STALE_ATTEMPT_AFTER_S),
            receiptless_before=now - timedelta(seconds=settings.RECEIPT_BACKFILL_AFTER_S),
            limit=settings.STALE_REFRESH_BATCH_SIZE,
        )
        payment_ids = [attempt.gateway_payment_id for attempt in stale]
    changed = 0
    for payment_id in payment_ids:
        try:
            payment = await gateway.get_payment(payment_id)
        except GatewayError as e:
            log.warning("stale_attempt_refresh_failed", gateway_payment_id=payment_id, error=str(e))
            continue
        # One transaction per payment: one failure does not undo the others.
        async with task_session(ctx) as session:
            outcome = await event_service.apply(
                session, redis=ctx["redis"], payment=payment, sequence=payment.sequence
            )
        changed += outcome is EventOutcome.applied
    if payment_ids:
        log.info("stale_attempts_refreshed", checked=len(payment_ids), changed=changed)
    return changed
