from __future__ import annotations

from typing import Any

from session_api.config import Settings
from session_api.risk import service as risk_service
from session_api.tasks import registry
from shared.worker import task_session


@registry.task("risk.flag_suspicious_activity", max_tries=1, timeout_s=120)
async def flag_suspicious_activity(ctx: dict[str, Any]) -> int:
    """Bring the suspicious-activity flags up to date (safe to run twice: one flag per kind and
    subject); the number of new flags."""
    settings: Settings = ctx["settings"]
    async with task_session(ctx) as session:
        return await risk_service.detect(session, settings=settings)
