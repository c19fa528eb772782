"""The one harness that runs the platform for tests: the Daraja simulator, the payment gateway
(its API served over loopback and its arq worker in this event loop) and, when asked, session-api,
each served with :func:`shared.serving.serve_app`. The gateway's events go to a subscriber the
caller serves (a signature-checking receiver, a relay to session-api).

Delays are scaled down by the services' own settings (``TIME_SCALE``) so a whole payment takes a
fraction of a second; callers change any setting by name. The settings here are the defaults
every suite shares; the phone numbers from :func:`phone` never repeat within a run.

The services are imported when a system is started, not when the pytest plugin loads: the plugin
serves every package's tests, the simulator's alone included.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import FastAPI

from shared.serving import serve_app
from shared.testing.waiting import wait_until
from shared.testing.workers import RunningWorker, start_worker

if TYPE_CHECKING:
    from daraja_simulator.config import Settings as SimulatorSettings
    from payment_gateway.config import Settings as GatewaySettings
    from session_api.config import Settings as SessionSettings

Overrides = dict[str, Any]
SystemFactory = Callable[..., contextlib.AbstractAsyncContextManager["System"]]

# The key session-api (or a test) presents to the gateway, and the secret the gateway signs its
# events with for the subscriber, as deployments configure both.
SERVICE_KEY = "test-service-key"
EVENT_SECRET = "whsec_dGVzdC1yZWNlaXZlci1zZWNyZXQta2V5LTMyYnl0ZXMh"  # noqa: S105 (tests only)
EVENTS_PATH = "/events"

# Audit checkpoints and archives of test runs stay out of the checkout's var/ (whose files belong
# to the development database's chains).
_AUDIT_FILES = os.path.join(tempfile.gettempdir(), f"mpesa-test-audit-{os.getpid()}")

SIMULATOR_DEFAULTS: Overrides = {
    # At this scale a customer answers in 0.15 s.
    "TIME_SCALE": 0.01,
    "CUSTOMER_RESPONSE_DELAY_S": 15,
    "PROMPT_WINDOW_S": 30,
    "SEED": 7,
    # Any free port for its mail server; session-api is pointed at the one it took.
    "SMTP_PORT": 0,
    "SMS_DELIVERY_DELAY_S": 10,
}
GATEWAY_DEFAULTS: Overrides = {
    "API_KEYS": [SERVICE_KEY],
    "TIME_SCALE": 0.01,
    # The first poll comes well after the simulated customer answers (CUSTOMER_RESPONSE_DELAY_S)
    # so a callback, confirmed by STK Query first, settles before the poll does.
    "POLL_SCHEDULE_S": [50, 30, 60, 120, 300, 600],
    "STATS_REFRESH_S": 3600,
    "DARAJA_QUERY_RATE_PER_SECOND": 200,
    # The daily and hourly reconciliation runs follow the wall clock: a test that happened to
    # span 23:00 or minute 5 of an hour would see a run nobody asked for (and its emails).
    "RECONCILIATION_SCHEDULE": False,
    "AUDIT_CHECKPOINT_FILE": os.path.join(_AUDIT_FILES, "payment_gateway-checkpoints.jsonl"),
    "AUDIT_ARCHIVE_DIR": os.path.join(_AUDIT_FILES, "archive"),
    # Limits no suite reaches (every test calls from one address with one key); the tests of
    # the limits set their own.
    "CALLBACK_RATE_LIMIT_PER_IP": "100000/second",
    "SERVICE_KEY_RATE_LIMIT": "100000/second",
}
SESSION_API_DEFAULTS: Overrides = {
    "ENVIRONMENT": "testing",
    "GATEWAY_URL": "http://gateway.test",
    "SEED_ON_STARTUP": False,
    # Cheap hashing: the cost is a setting, the algorithm is the same.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 64,
    "ARGON2_PARALLELISM": 1,
    "SSE_MAX_DURATION_S": 20,
    # Outbox retries at the harness's time scale.
    "NOTIFY_RETRY_BASE_S": 0.05,
    "NOTIFY_RETRY_CAP_S": 0.5,
    "AUDIT_CHECKPOINT_FILE": os.path.join(_AUDIT_FILES, "session_api-checkpoints.jsonl"),
    "AUDIT_ARCHIVE_DIR": os.path.join(_AUDIT_FILES, "archive"),
    # Limits no suite reaches (every test calls from one address); the tests of the limits set
    # their own.
    "LOGIN_RATE_LIMIT_PER_IP": "100000/minute",
    "REGISTER_RATE_LIMIT_PER_IP": "100000/minute",
    "LOGIN_FAILURE_LOCKOUT": "100000/minute",
    "PAYMENT_RATE_LIMIT_PER_USER": "100000/minute",
    "PAYMENT_RATE_LIMIT_PER_PHONE": "100000/minute",
}

_phones = itertools.count(1)


def phone(behaviour: str = "100") -> str:
    """A fresh 07XXXXXXXX number whose last three digits choose the simulated customer
    (``001`` cancels, ``006`` pays with the callback sent three times, ``001``..``010`` in the
    simulator's README; anything else pays), unique per call so tests never share a phone."""
    return f"07{next(_phones) % 100_000:05d}{behaviour}"


def session_api_settings(database_url: str, redis_url: str, **overrides: Any) -> SessionSettings:
    """session-api's settings for tests: the defaults above, then ``overrides``."""
    from session_api.config import Settings

    return Settings(
        **{
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            **SESSION_API_DEFAULTS,
            **overrides,
        }
    )


@dataclass
class ServedSessionApi:
    settings: SessionSettings
    app: FastAPI
    url: str
    client: httpx.AsyncClient
    # session-api's arq worker (notifications), in this event loop without its cron jobs.
    worker: RunningWorker | None = None


@dataclass
class System:
    """The running services, their URLs and settings, and an HTTP client for each."""

    simulator_settings: SimulatorSettings
    simulator_url: str
    simulator: httpx.AsyncClient
    gateway_settings: GatewaySettings
    gateway_app: FastAPI
    gateway_url: str
    gateway: httpx.AsyncClient
    subscriber_url: str
    sweeps: bool = True
    worker: RunningWorker | None = None
    session_api: ServedSessionApi | None = field(default=None)

    async def start_worker(self) -> RunningWorker:
        """The gateway's worker in this event loop, once it listens for stored callbacks."""
        self.worker = await start_gateway_worker(self.gateway_settings, sweeps=self.sweeps)
        return self.worker


async def start_gateway_worker(settings: GatewaySettings, *, sweeps: bool = True) -> RunningWorker:
    """The gateway's arq worker in this event loop; returns once it listens for the callbacks the
    API stores. ``sweeps=False`` leaves out its periodic jobs."""
    from payment_gateway.worker import worker_settings

    running = start_worker(worker_settings(settings), cron=sweeps)

    async def started() -> bool:
        if running.task.done():
            running.task.result()
        listener = running.worker.ctx.get("callback_listener")
        return listener is not None and listener.connected.is_set()

    await wait_until(started, within=10, what="the worker to start and listen")
    return running


@contextlib.asynccontextmanager
async def run_system(
    subscriber: FastAPI,
    *,
    simulator: Overrides | None = None,
    gateway: Overrides | None = None,
    session_api: Overrides | None = None,
    worker: bool = True,
    sweeps: bool = True,
) -> AsyncIterator[System]:
    """Serve the simulator, ``subscriber`` (receiving the gateway's signed events at
    ``/events``) and the gateway, then session-api if ``session_api`` is given (its setting
    overrides; ``DATABASE_URL`` and ``REDIS_URL`` required), and start the gateway's worker."""
    from daraja_simulator.config import Settings as SimulatorSettings
    from daraja_simulator.main import create_app as create_simulator

    simulator_settings = SimulatorSettings(**{**SIMULATOR_DEFAULTS, **(simulator or {})})
    simulator_app = create_simulator(simulator_settings)
    async with (
        serve_app(simulator_app) as simulator_url,
        serve_app(subscriber) as subscriber_url,
        _gateway(
            simulator_url,
            f"{subscriber_url}{EVENTS_PATH}",
            gateway,
            # A subscriber standing for session-api takes what session-api takes.
            session_api=session_api is not None,
        ) as (app, settings, url),
        httpx.AsyncClient(base_url=url, timeout=30) as gateway_client,
        httpx.AsyncClient(base_url=simulator_url, timeout=30) as simulator_client,
        _session_api(url, simulator_app, simulator_url, session_api) as served_session_api,
    ):
        system = System(
            simulator_settings=simulator_settings,
            simulator_url=simulator_url,
            simulator=simulator_client,
            gateway_settings=settings,
            gateway_app=app,
            gateway_url=url,
            gateway=gateway_client,
            subscriber_url=subscriber_url,
            sweeps=sweeps,
            session_api=served_session_api,
        )
        if worker:
            await system.start_worker()
        try:
            yield system
        finally:
            if system.worker is not None:
                await system.worker.kill()


@contextlib.asynccontextmanager
async def _gateway(
    simulator_url: str, events_url: str, overrides: Overrides | None, *, session_api: bool
) -> AsyncIterator[tuple[FastAPI, GatewaySettings, str]]:
    from payment_gateway.config import SESSION_API_EVENT_TYPES, Settings, WebhookEndpoint
    from payment_gateway.main import create_app

    settings = Settings(
        **{
            **GATEWAY_DEFAULTS,
            # Its own queue, token key and notification channel: systems running side by side
            # never consume each other's jobs.
            "NAMESPACE": f"test_{uuid.uuid4().hex[:8]}",
            "DARAJA_BASE_URL": simulator_url,
            "WEBHOOK_ENDPOINTS": [
                WebhookEndpoint(url=events_url, secret=EVENT_SECRET)
                if not session_api
                else WebhookEndpoint(
                    url=events_url, secret=EVENT_SECRET, types=list(SESSION_API_EVENT_TYPES)
                )
            ],
            **(overrides or {}),
        }
    )
    app = create_app(settings)
    async with serve_app(app) as url:
        # The callback URL needs the port the gateway was just given.
        settings.PUBLIC_BASE_URL = url
        yield app, settings, url


@contextlib.asynccontextmanager
async def _session_api(
    gateway_url: str, simulator_app: FastAPI, simulator_url: str, overrides: Overrides | None
) -> AsyncIterator[ServedSessionApi | None]:
    """session-api served, its worker running, email and SMS going to the simulator (whose
    delivery reports come back to this session-api)."""
    if overrides is None:
        yield None
        return
    from session_api.main import create_app
    from session_api.worker import worker_settings

    options = dict(overrides)
    settings = session_api_settings(
        options.pop("DATABASE_URL"),
        options.pop("REDIS_URL"),
        **{
            "GATEWAY_URL": gateway_url,
            "GATEWAY_API_KEY": SERVICE_KEY,
            "WEBHOOK_SECRET": EVENT_SECRET,
            "SMTP_PORT": simulator_app.state.smtp_port or 1,
            "SMS_URL": f"{simulator_url}/version1/messaging",
            "SMS_USERNAME": simulator_app.state.settings.SMS_USERNAME,
            "SMS_API_KEY": simulator_app.state.settings.SMS_API_KEY,
            **options,
        },
    )
    app = create_app(settings)
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        token = settings.SMS_REPORT_TOKEN.get_secret_value()
        simulator_app.state.sms_center.report_url = f"{url}/v1/notifications/sms/reports/{token}"
        worker = start_worker(worker_settings(settings), cron=False)
        try:
            yield ServedSessionApi(
                settings=settings, app=app, url=url, client=client, worker=worker
            )
        finally:
            await worker.kill()
