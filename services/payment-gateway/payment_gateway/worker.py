"""`python -m payment_gateway.worker`: the arq worker of payment-gateway."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from arq.cron import CronJob, cron
from prometheus_client import start_http_server

from payment_gateway import clients
from payment_gateway.audit import tasks as audit_tasks
from payment_gateway.callback import service as callback_service
from payment_gateway.callback import tasks as callback_tasks
from payment_gateway.callback.listener import CallbackListener
from payment_gateway.config import Settings, settings
from payment_gateway.console import tasks as console_tasks
from payment_gateway.idempotency import tasks as idempotency_tasks
from payment_gateway.integrations.daraja import NAIROBI
from payment_gateway.outbox import tasks as outbox_tasks
from payment_gateway.payment import tasks as payment_tasks
from payment_gateway.reconciliation import tasks as reconciliation_tasks
from payment_gateway.refund import tasks as refund_tasks
from payment_gateway.tasks import registry
from shared.logging import configure_logging
from shared.worker import build_worker_settings, run_worker

log = structlog.get_logger(__name__)


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """Every sweep in one cron job: resume open payments, reprocess stored callbacks, re-send
    undelivered events, forget expired idempotency keys, recount the stats' changed hours."""
    counts = {
        "payments": await payment_tasks.sweep(ctx),
        "callbacks": await callback_tasks.sweep(ctx),
        "events": await outbox_tasks.sweep(ctx),
        "idempotency_keys": await idempotency_tasks.prune(ctx),
        "reconciliation_runs": await reconciliation_tasks.resume(ctx),
        "refunds": await refund_tasks.sweep(ctx),
        "stats_hours": await console_tasks.refresh_stats(ctx),
    }
    if any(counts.values()):
        log.info("sweep", **counts)
    return counts


def sweep_cron(settings: Settings) -> CronJob:
    every = settings.SWEEP_INTERVAL_S
    if every < 60:
        timing: dict[str, Any] = {"second": set(range(0, 60, every))}
    else:
        timing = {"minute": set(range(0, 60, max(1, every // 60))), "second": {0}}
    return cron(
        sweep,
        name="gateway.sweep",
        run_at_startup=True,
        unique=True,
        timeout=settings.SWEEP_TIMEOUT_S,
        **timing,
    )


def reconciliation_crons(settings: Settings) -> list[CronJob]:
    """The daily run at its Nairobi time (converted to the worker's clock, which arq's cron
    reads) and the hourly Pull run."""
    if not settings.RECONCILIATION_SCHEDULE:
        return []
    at = (
        datetime.now(NAIROBI)
        .replace(
            hour=settings.RECONCILIATION_DAILY_HOUR,
            minute=settings.RECONCILIATION_DAILY_MINUTE,
        )
        .astimezone()
    )
    return [
        cron(
            reconciliation_tasks.daily,
            name="reconciliation.daily",
            hour={at.hour},
            minute={at.minute},
            second={0},
            unique=True,
        ),
        cron(
            reconciliation_tasks.hourly_pull,
            name="reconciliation.hourly_pull",
            minute={5},
            second={0},
            unique=True,
        ),
    ]


def audit_crons(settings: Settings) -> list[CronJob]:
    """The signed checkpoint every few minutes and the daily archive of rows past retention."""
    every = settings.AUDIT_CHECKPOINT_INTERVAL_MIN
    return [
        cron(
            audit_tasks.checkpoint,
            name="audit.checkpoint",
            minute=set(range(0, 60, every)),
            second={30},
            unique=True,
        ),
        cron(audit_tasks.archive, name="audit.archive", hour={2}, minute={17}, unique=True),
    ]


def worker_settings(settings: Settings) -> type:
    """The arq `WorkerSettings` for `settings`; tests build their own with scaled schedules."""

    async def startup(ctx: dict[str, Any]) -> None:
        callback_service.log_trust_policy(settings)
        ctx["daraja"] = clients.daraja_clients(
            settings, redis=ctx["redis"], sessionmaker=ctx["sessionmaker"]
        )
        ctx["webhook_http"] = clients.webhook_http(settings)
        listener = CallbackListener(
            dsn=clients.asyncpg_dsn(settings),
            channel=settings.callback_channel,
            namespace=settings.NAMESPACE,
            arq=ctx["redis"],
        )
        listener.start()
        ctx["callback_listener"] = listener
        if settings.WORKER_METRICS_PORT:
            start_http_server(settings.WORKER_METRICS_PORT, addr=settings.HOST)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["callback_listener"].stop()
        await ctx["daraja"].aclose()
        await ctx["webhook_http"].aclose()

    worker = build_worker_settings(
        settings,
        registry=registry,
        queue_name=settings.queue_name,
        cron_jobs=[
            sweep_cron(settings),
            *reconciliation_crons(settings),
            *audit_crons(settings),
        ],
        on_startup=startup,
        on_shutdown=shutdown,
        max_jobs=settings.WORKER_MAX_JOBS,
    )
    # Job ids only deduplicate live jobs: a finished job's id may be enqueued again.
    worker.keep_result = 0  # type: ignore[attr-defined]
    worker.poll_delay = settings.WORKER_POLL_DELAY_S  # type: ignore[attr-defined]
    return worker


WorkerSettings = worker_settings(settings)

if __name__ == "__main__":
    configure_logging(
        level=settings.LOG_LEVEL, json=settings.LOG_JSON, service="payment_gateway.worker"
    )
    run_worker(WorkerSettings)
