"""`python -m session_api.worker`: the arq worker of session-api (notifications, reminders,
wallet checks, stale payment attempts, suspicious-activity flags)."""

from __future__ import annotations

import uuid
from typing import Any

from arq.cron import cron
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import tasks as audit_tasks
from session_api.booking import tasks as booking_tasks
from session_api.config import QUEUE_NAME, Settings, settings
from session_api.event import tasks as event_tasks
from session_api.integrations.smtp import Attachment
from session_api.main import gateway_client
from session_api.notification import tasks as notification_tasks
from session_api.notification.delivery import ReceiptFile
from session_api.notification.providers import build_providers
from session_api.payment import receipt
from session_api.risk import tasks as risk_tasks
from session_api.tasks import registry
from session_api.wallet import tasks as wallet_tasks
from shared.logging import configure_logging
from shared.worker import build_worker_settings, run_worker


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    ctx["gateway"] = gateway_client(settings)
    providers = build_providers(settings)

    async def receipt_file(session: AsyncSession, attempt_id: uuid.UUID) -> ReceiptFile | None:
        found = await receipt.for_attempt(session, attempt_id=attempt_id, settings=settings)
        if found is None:
            return None
        facts, pdf = found
        return ReceiptFile(
            number=facts.receipt_number,
            attachment=Attachment(facts.filename, receipt.MEDIA_TYPE, pdf),
        )

    providers.receipt = receipt_file
    ctx["notification_providers"] = providers


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["gateway"].aclose()
    await ctx["notification_providers"].sms.aclose()


def worker_settings(settings: Settings) -> type:
    """The arq ``WorkerSettings`` of session-api for these settings."""
    cron_jobs = [
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
        cron(
            notification_tasks.sweep,
            name="cron:notification.sweep",
            minute=settings.NOTIFY_SWEEP_CRON_MINUTES,
        ),
        cron(
            audit_tasks.checkpoint,
            name="cron:audit.checkpoint",
            minute=set(range(0, 60, settings.AUDIT_CHECKPOINT_INTERVAL_MIN)),
            second={30},
            unique=True,
        ),
        cron(audit_tasks.archive, name="cron:audit.archive", hour={2}, minute={23}, unique=True),
        cron(
            risk_tasks.flag_suspicious_activity,
            name="cron:risk.flag_suspicious_activity",
            minute=settings.RISK_CRON_MINUTES,
        ),
    ]
    return build_worker_settings(
        settings,
        registry=registry,
        queue_name=QUEUE_NAME,
        cron_jobs=cron_jobs,
        on_startup=startup,
        on_shutdown=shutdown,
    )


WorkerSettings = worker_settings(settings)

if __name__ == "__main__":
    configure_logging(
        level=settings.LOG_LEVEL, json=settings.LOG_JSON, service="session_api.worker"
    )
    run_worker(WorkerSettings)
