"""`python -m session_api.worker`: the arq worker of session-api."""

from __future__ import annotations

from session_api.config import QUEUE_NAME, settings
from session_api.tasks import registry
from shared.logging import configure_logging
from shared.worker import build_worker_settings, run_worker

WorkerSettings = build_worker_settings(settings, registry=registry, queue_name=QUEUE_NAME)

if __name__ == "__main__":
    configure_logging(
        level=settings.LOG_LEVEL, json=settings.LOG_JSON, service="session_api.worker"
    )
    run_worker(WorkerSettings)
