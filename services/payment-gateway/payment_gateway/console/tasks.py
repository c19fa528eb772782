"""Jobs of the staff console: keeping the stats' hourly rollups current."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from payment_gateway.config import Settings
from payment_gateway.console import service
from payment_gateway.tasks import registry
from shared.worker import task_session


@registry.task("console.refresh_stats", max_tries=1)
async def refresh_stats(ctx: dict[str, Any]) -> int:
    """Recount the hours whose payments changed since the last refresh; safe to run twice (a
    second refresher finds the lock held and leaves)."""
    settings: Settings = ctx["settings"]
    async with task_session(ctx) as session:
        hours = await service.refresh_rollups(
            session, overlap=timedelta(seconds=settings.CONSOLE_STATS_REFRESH_OVERLAP_S)
        )
    return hours or 0
