"""Whole flows over loopback: the Daraja simulator, the payment gateway (its API and its arq worker
in this event loop) and session-api, each served with `serve_app`. The gateway's events reach
session-api through a relay that can deliver each one several times at once. Delays are scaled
down by the simulator's and the gateway's own settings."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from redis.asyncio import Redis

from daraja_simulator.config import Settings as SimulatorSettings
from daraja_simulator.main import create_app as create_simulator
from payment_gateway.config import Settings as GatewaySettings
from payment_gateway.config import WebhookEndpoint
from payment_gateway.main import create_app as create_gateway
from payment_gateway.worker import worker_settings as gateway_worker_settings
from session_api.config import Settings
from session_api.event.tasks import refresh_stale_attempts
from session_api.main import create_app as create_session_api
from session_api.models import UserRole
from shared.testing import serve_app, start_worker
from shared.testing import wait_until as until
from tests.session_api.conftest import Account, make_account, make_settings

SERVICE_KEY = "flow-service-key"
# A secret shared by the gateway's subscriber entry and session-api, as deployments configure it.
EVENT_SECRET = "whsec_Zmxvdy10ZXN0cy1zZXNzaW9uLWFwaS1ldmVudHMta2V5IQ=="

_phones = itertools.count(1)


def phone(behaviour: str = "100") -> str:
    """A fresh 07XXXXXXXX number; its last three digits choose the simulated customer
    (`001` cancels, `006` pays with the callback sent three times, others pay)."""
    return f"07{next(_phones) % 100_000:05d}{behaviour}"


@dataclass
class Relay:
    """Stands between the gateway and session-api: forwards each signed event unchanged,
    `copies` times at once (an at-least-once sender at its worst), and answers with the first
    response."""

    target: str = ""
    copies: int = 1
    forwarded: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/events")
        async def relay(request: Request) -> Response:
            body = await request.body()
            headers = {
                name: request.headers[name]
                for name in ("content-type", "webhook-id", "webhook-timestamp", "webhook-signature")
            }
            async with httpx.AsyncClient(timeout=30) as http:
                responses = await asyncio.gather(
                    *(
                        http.post(self.target, content=body, headers=headers)
                        for _ in range(self.copies)
                    )
                )
            self.forwarded.append(json.loads(body))
            self.answers.extend(r.status_code for r in responses)
            first = responses[0]
            return Response(status_code=first.status_code, content=first.content)

        return app


@dataclass
class Flow:
    api: httpx.AsyncClient
    simulator: httpx.AsyncClient
    gateway: httpx.AsyncClient
    relay: Relay
    session_api: FastAPI
    settings: Settings

    async def account(self, role: UserRole = UserRole.client, **kwargs: Any) -> Account:
        async with self.session_api.state.sessionmaker() as session, session.begin():
            return await make_account(session, self.settings, role=role, **kwargs)

    async def attempt(self, attempt_id: str, viewer: Account) -> dict[str, Any]:
        response = await self.api.get(f"/v1/payments/{attempt_id}", headers=viewer.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def settled(
        self, attempt_id: str, viewer: Account, *, within: float = 15.0
    ) -> dict[str, Any]:
        async def final() -> dict[str, Any] | None:
            attempt = await self.attempt(attempt_id, viewer)
            if attempt["status"] == "processing":
                return None
            # A poll can prove a payment before its callback (and receipt) is verified; the
            # receipt then follows in a later event. Settled means both have arrived.
            if attempt["status"] == "paid" and not attempt["receipt_number"]:
                return None
            return attempt

        result: dict[str, Any] = await until(final, within=within, what=f"{attempt_id} to settle")
        return result

    async def refresh(self) -> int:
        """Run session-api's worker job that reads overdue attempts back from the gateway."""
        ctx = {
            "settings": self.settings,
            "sessionmaker": self.session_api.state.sessionmaker,
            "redis": self.session_api.state.redis,
            "gateway": self.session_api.state.gateway,
        }
        changed: int = await refresh_stale_attempts(ctx)
        return changed

    async def ledger(self) -> list[dict[str, Any]]:
        response = await self.simulator.get("/simulator/ledger")
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries


async def run_worker(settings: GatewaySettings) -> AsyncIterator[None]:
    running = start_worker(gateway_worker_settings(settings))
    try:
        yield
    finally:
        await running.kill()


SIMULATOR_DEFAULTS: dict[str, Any] = {
    # At this scale a customer answers in 0.15 s; a prompt left for a person (the `manual`
    # behaviour) stays open 5 s.
    "TIME_SCALE": 0.01,
    "CUSTOMER_RESPONSE_DELAY_S": 15,
    "PROMPT_WINDOW_S": 500,
    "SEED": 11,
}
GATEWAY_DEFAULTS: dict[str, Any] = {
    "API_KEYS": [SERVICE_KEY],
    "TIME_SCALE": 0.01,
    # The first poll comes well after the simulated customer answers (CUSTOMER_RESPONSE_DELAY_S)
    # so a callback, confirmed by STK Query first, settles before the poll does.
    "POLL_SCHEDULE_S": [50, 30, 60, 120, 300, 600],
    "STATS_REFRESH_S": 3600,
    "DARAJA_QUERY_RATE_PER_SECOND": 200,
}

FlowFactory = Callable[..., contextlib.AbstractAsyncContextManager[Flow]]


@pytest.fixture
def make_flow(
    database_url: str, redis_url: str, clean_database: None, redis_client: Redis
) -> FlowFactory:
    """`async with make_flow(simulator={...}, gateway={...}) as flow:` with setting overrides."""

    @contextlib.asynccontextmanager
    async def factory(
        *, simulator: dict[str, Any] | None = None, gateway: dict[str, Any] | None = None
    ) -> AsyncIterator[Flow]:
        relay = Relay()
        simulator_settings = SimulatorSettings(**{**SIMULATOR_DEFAULTS, **(simulator or {})})
        async with (
            serve_app(create_simulator(simulator_settings)) as simulator_url,
            serve_app(relay.app()) as relay_url,
        ):
            gateway_settings = GatewaySettings(
                **{
                    **GATEWAY_DEFAULTS,
                    "DARAJA_BASE_URL": simulator_url,
                    "WEBHOOK_ENDPOINTS": [
                        WebhookEndpoint(url=f"{relay_url}/events", secret=EVENT_SECRET)
                    ],
                    **(gateway or {}),
                }
            )
            async with serve_app(create_gateway(gateway_settings)) as gateway_url:
                # The gateway's callback URL needs the port it was just given.
                gateway_settings.PUBLIC_BASE_URL = gateway_url
                session_settings = make_settings(
                    database_url,
                    redis_url,
                    GATEWAY_URL=gateway_url,
                    GATEWAY_API_KEY=SERVICE_KEY,
                    WEBHOOK_SECRET=EVENT_SECRET,
                    RECEIPT_BACKFILL_AFTER_S=0,
                )
                app = create_session_api(session_settings)
                async with (
                    serve_app(app) as session_url,
                    contextlib.asynccontextmanager(run_worker)(gateway_settings),
                    httpx.AsyncClient(base_url=session_url, timeout=30) as api,
                    httpx.AsyncClient(base_url=simulator_url, timeout=30) as simulator_http,
                    httpx.AsyncClient(base_url=gateway_url, timeout=30) as gateway_http,
                ):
                    relay.target = f"{session_url}/internal/payment-events"
                    yield Flow(
                        api=api,
                        simulator=simulator_http,
                        gateway=gateway_http,
                        relay=relay,
                        session_api=app,
                        settings=session_settings,
                    )

    return factory


@pytest.fixture
async def flow(make_flow: FlowFactory) -> AsyncIterator[Flow]:
    async with make_flow() as running:
        yield running
