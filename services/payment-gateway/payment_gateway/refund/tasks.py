"""Refund jobs: send a Reversal (and again after a transient error), apply its stored result,
and the sweep that resumes refunds whose job or result was lost."""

from __future__ import annotations

import uuid
from typing import Any

from payment_gateway.clients import DarajaClients
from payment_gateway.config import Settings
from payment_gateway.refund import service
from payment_gateway.tasks import registry
from shared.worker import task_session


@registry.task(service.REVERSE_TASK, max_tries=3, timeout_s=120)
async def reverse(ctx: dict[str, Any], refund_id: str, attempt: int) -> str:
    """Send request `attempt` of an open refund to Daraja and record what it said."""
    settings: Settings = ctx["settings"]
    clients: DarajaClients = ctx["daraja"]
    async with task_session(ctx) as session:
        order = await service.prepare(
            session, refund_id=uuid.UUID(refund_id), attempt=attempt, settings=settings
        )
    if order is None:
        return "not_due"
    daraja = await clients.for_environment(order.environment)
    result = await service.send(daraja, order=order, settings=settings)
    async with task_session(ctx) as session:
        return await service.record_sent(session, order=order, result=result, settings=settings)


@registry.task(service.RESULT_TASK, max_tries=5, timeout_s=60)
async def result(ctx: dict[str, Any], inbox_id: int) -> str | None:
    """Apply one stored Reversal result (a no-op if applied already)."""
    async with task_session(ctx) as session:
        return await service.process(session, inbox_id=inbox_id, settings=ctx["settings"])


@registry.task("refund.sweep", max_tries=1)
async def sweep(ctx: dict[str, Any]) -> int:
    """Send again the open refunds whose job or result is overdue."""
    async with task_session(ctx) as session:
        return await service.resume_overdue(session, settings=ctx["settings"])
