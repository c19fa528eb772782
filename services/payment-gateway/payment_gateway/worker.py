"""`python -m payment_gateway.worker`: the arq worker of payment-gateway."""

from __future__ import annotations

from payment_gateway.config import QUEUE_NAME, settings
from payment_gateway.tasks import registry
from shared.logging import configure_logging
from shared.worker import build_worker_settings, run_worker

WorkerSettings = build_worker_settings(settings, registry=registry, queue_name=QUEUE_NAME)

if __name__ == "__main__":
    configure_logging(
        level=settings.LOG_LEVEL, json=settings.LOG_JSON, service="payment_gateway.worker"
    )
    run_worker(WorkerSettings)
