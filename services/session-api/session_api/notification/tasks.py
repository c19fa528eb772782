from __future__ import annotations

import uuid
from typing import Any

from session_api.notification import delivery
from session_api.notification.service import DELIVER_TASK
from session_api.tasks import registry
from shared.worker import task_session


@registry.task(DELIVER_TASK, max_tries=1, timeout_s=60)
async def deliver(ctx: dict[str, Any], delivery_id: str) -> str | None:
    """Send one outbox row (retries are the row's own: `next_attempt_at` and a deferred job)."""
    async with task_session(ctx) as session:
        status = await delivery.deliver(
            session,
            delivery_id=uuid.UUID(delivery_id),
            providers=ctx["notification_providers"],
            settings=ctx["settings"],
        )
        return status.value if status is not None else None


@registry.task("notification.sweep", max_tries=1, timeout_s=120)
async def sweep(ctx: dict[str, Any]) -> int:
    """Re-enqueue due deliveries and recover those cut off mid-send."""
    async with task_session(ctx) as session:
        return await delivery.sweep(session, settings=ctx["settings"])
