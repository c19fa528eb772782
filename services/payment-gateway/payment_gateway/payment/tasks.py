"""Jobs of payment monitoring: push retries, the polling schedule, and the sweep that resumes
every open payment whose job was lost."""

from __future__ import annotations

import uuid
from typing import Any

from payment_gateway.clients import DarajaClients
from payment_gateway.config import Settings
from payment_gateway.payment import lifecycle, monitoring
from payment_gateway.tasks import registry
from shared.worker import task_session


@registry.task(monitoring.PUSH_TASK, max_tries=3, timeout_s=120)
async def push(ctx: dict[str, Any], payment_id: str, attempt: int) -> str:
    """Make push `attempt` of a payment still `pending`, and record what Daraja said."""
    settings: Settings = ctx["settings"]
    clients: DarajaClients = ctx["daraja"]
    async with task_session(ctx) as session:
        order = await monitoring.prepare_retry(
            session, payment_id=uuid.UUID(payment_id), attempt=attempt, settings=settings
        )
    if order is None:
        return "not_due"
    daraja = await clients.for_environment(order.environment)
    result = await monitoring.push(daraja, order=order, settings=settings)
    async with task_session(ctx) as session:
        payment = await monitoring.record_push(
            session, order=order, result=result, actor=lifecycle.SYSTEM, settings=settings
        )
        return payment.status


@registry.task(monitoring.POLL_TASK, max_tries=3, timeout_s=120)
async def poll(ctx: dict[str, Any], payment_id: str, step: int) -> str:
    """Query step `step` of a `sent` payment's schedule and apply the answer."""
    settings: Settings = ctx["settings"]
    clients: DarajaClients = ctx["daraja"]
    async with task_session(ctx) as session:
        target = await monitoring.checkout_to_poll(
            session, payment_id=uuid.UUID(payment_id), step=step
        )
    if target is None:
        return "not_due"
    daraja = await clients.for_environment(target.environment)
    result = await monitoring.query(daraja, checkout_request_id=target.checkout_request_id)
    async with task_session(ctx) as session:
        payment = await monitoring.record_poll(
            session, payment_id=uuid.UUID(payment_id), step=step, result=result, settings=settings
        )
        return payment.status if payment else "gone"


@registry.task("payment.sweep", max_tries=1)
async def sweep(ctx: dict[str, Any]) -> int:
    """Re-enqueue the next push or query of open payments whose job is overdue."""
    async with task_session(ctx) as session:
        return await monitoring.resume_overdue(session, settings=ctx["settings"])
