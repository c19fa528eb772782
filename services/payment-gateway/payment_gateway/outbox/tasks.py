"""Jobs that deliver outbox events and find the ones whose job was lost."""

from __future__ import annotations

from typing import Any

import httpx

from payment_gateway.config import Settings
from payment_gateway.outbox import service
from payment_gateway.outbox.repository import OutboxRepository
from payment_gateway.tasks import registry
from shared.worker import task_session


@registry.task(service.DELIVER_TASK, max_tries=3, timeout_s=120)
async def deliver(ctx: dict[str, Any], delivery_id: int) -> str:
    """Send one event to one subscriber (if it is due and its predecessors are through)."""
    settings: Settings = ctx["settings"]
    http: httpx.AsyncClient = ctx["webhook_http"]
    async with task_session(ctx) as session:
        claimed = await OutboxRepository.from_session(session).claim(
            delivery_id=delivery_id, lease_s=service.lease_seconds(settings)
        )
    if claimed is None:
        return "not_due"
    result = await service.send(http, settings=settings, delivery=claimed)
    async with task_session(ctx) as session:
        return await service.record(session, delivery=claimed, result=result, settings=settings)


@registry.task("webhook.sweep", max_tries=1)
async def sweep(ctx: dict[str, Any]) -> int:
    """Re-enqueue undelivered events whose job is overdue."""
    async with task_session(ctx) as session:
        return await service.requeue_overdue(session, settings=ctx["settings"])
