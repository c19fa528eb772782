"""Forget idempotency keys past their retention."""

from __future__ import annotations

from typing import Any

from payment_gateway.idempotency import service
from payment_gateway.tasks import registry
from shared.worker import task_session


@registry.task("idempotency.prune", max_tries=1)
async def prune(ctx: dict[str, Any]) -> int:
    """Delete keys older than GATEWAY_IDEMPOTENCY_TTL_H."""
    async with task_session(ctx) as session:
        return await service.prune(session)
