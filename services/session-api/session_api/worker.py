"""`python -m session_api.worker`: the arq worker of session-api (reminders, wallet checks, stale
payment attempts)."""

from __future__ import annotations

from typing import Any

from arq.cron import cron

from session_api.booking import tasks as booking_tasks
from session_api.config import QUEUE_NAME, settings
from session_api.event import tasks as event_tasks
from session_api.main import gateway_client
from session_api.tasks import registry
from session_api.wallet import tasks as wallet_tasks
from shared.logging import configure_logging
from shared.worker import build_worker_settings, run_worker


async def startup(ctx: dict[str, Any]) -> None:
    ctx["gateway"] = gateway_client(ctx["settings"])


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["gateway"].aclose()


CRON_JOBS = [
    cron(
        booking_tasks.send_reminders,
        name="cron:booking.send_reminders",
        minute=settings.REMINDER_CRON_MINUTES,
    ),
    cron(
        event_tasks.refresh_stale_attempts,
        name="cron:payment.refresh_stale_attempts",
        minute=settings.STALE_REFRESH_CRON_MINUTES,
    ),
    cron(
        wallet_tasks.check_consistency,
        name="cron:wallet.check_consistency",
        minute=settings.WALLET_CHECK_CRON_MINUTES,
    ),
]

WorkerSettings = build_worker_settings(
    settings,
    registry=registry,
    queue_name=QUEUE_NAME,
    cron_jobs=CRON_JOBS,
    on_startup=startup,
    on_shutdown=shutdown,
)

if __name__ == "__main__":
    configure_logging(
        level=settings.LOG_LEVEL, json=settings.LOG_JSON, service="session_api.worker"
    )
    run_worker(WorkerSettings)
