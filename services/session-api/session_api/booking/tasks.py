from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from session_api.booking import service as booking_service
from session_api.tasks import registry
from shared.worker import task_session


@registry.task("booking.send_reminders", max_tries=1, timeout_s=120)
async def send_reminders(ctx: dict[str, Any]) -> int:
    """Remind people of confirmed sessions `REMINDER_LEAD_HOURS` ahead; returns how many
    bookings got a reminder."""
    async with task_session(ctx) as session:
        return await booking_service.send_reminders(
            session, lead_hours=ctx["settings"].REMINDER_LEAD_HOURS, now=datetime.now(UTC)
        )
