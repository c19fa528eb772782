"""Whole-flow fixtures: the real Daraja simulator, the gateway and a signature-checking event
receiver, each served over loopback HTTP, and the gateway's arq worker running in this event
loop. Schedules are scaled down by settings so a flow takes a fraction of a second."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from daraja_simulator.config import Settings as SimulatorSettings
from daraja_simulator.main import create_app as create_simulator
from payment_gateway.config import Settings, WebhookEndpoint
from payment_gateway.main import create_app as create_gateway
from payment_gateway.worker import worker_settings
from shared import testing, webhook_signing
from shared.serving import serve_app
from shared.testing import RunningWorker, wait_until

API_KEY = "test-service-key"
RECEIVER_SECRET = "whsec_dGVzdC1yZWNlaXZlci1zZWNyZXQta2V5LTMyYnl0ZXMh"
AUTH = {"Authorization": f"Bearer {API_KEY}"}

_phones = itertools.count(1)


@dataclass
class Received:
    webhook_id: str
    event: dict[str, Any]
    timestamp: int


@dataclass
class EventReceiver:
    """A subscriber that checks Standard Webhooks signatures, like session-api does."""

    secret: str
    events: list[Received] = field(default_factory=list)
    attempts: int = 0
    rejected: int = 0
    down: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/events")
        async def receive(request: Request) -> Response:
            self.attempts += 1
            body = await request.body()
            try:
                if self.down:
                    return Response(status_code=503, content=b"down for maintenance")
                try:
                    webhook_signing.verify(
                        self.secret, headers=request.headers, body=body, now=time.time()
                    )
                except webhook_signing.WebhookVerificationError:
                    self.rejected += 1
                    return Response(status_code=401)
                self.events.append(
                    Received(
                        webhook_id=request.headers["webhook-id"],
                        event=await request.json(),
                        timestamp=int(request.headers["webhook-timestamp"]),
                    )
                )
                return Response(status_code=204)
            finally:
                self.changed.set()

        return app

    def for_payment(self, payment_id: str) -> list[dict[str, Any]]:
        return [r.event for r in self.events if r.event["data"]["id"] == payment_id]

    def types(self, payment_id: str) -> list[str]:
        return [e["type"] for e in self.for_payment(payment_id)]

    async def wait_for(
        self, payment_id: str, event_type: str, *, count: int = 1, within: float = 10.0
    ) -> list[dict[str, Any]]:
        async def arrived() -> list[dict[str, Any]] | None:
            matching = [e for e in self.for_payment(payment_id) if e["type"] == event_type]
            return matching if len(matching) >= count else None

        return await _wait_event(self.changed, arrived, within, f"{event_type} for {payment_id}")


async def _wait_event(
    event: asyncio.Event, check: Callable[[], Awaitable[Any]], within: float, what: str
) -> Any:
    deadline = time.monotonic() + within
    while True:
        event.clear()
        value = await check()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=min(remaining, 0.25))


async def start_worker(settings: Settings, *, sweeps: bool = True) -> RunningWorker:
    running = testing.start_worker(worker_settings(settings), cron=sweeps)

    async def started() -> bool:
        if running.task.done():
            running.task.result()
        listener = running.worker.ctx.get("callback_listener")
        return listener is not None and listener.connected.is_set()

    await wait_until(started, within=10, what="the worker to start and listen")
    return running


@dataclass
class Stack:
    """The simulator, the gateway, the event receiver and the worker, all on loopback."""

    settings: Settings
    gateway_url: str
    simulator_url: str
    client: httpx.AsyncClient
    simulator: httpx.AsyncClient
    receiver: EventReceiver
    engine: AsyncEngine
    app: FastAPI
    worker: RunningWorker | None = None
    sweeps: bool = True

    def client_from(self, address: str) -> httpx.AsyncClient:
        """Talk to the running gateway in-process as if from `address` (the served app's
        uvicorn would rewrite the peer from X-Forwarded-For on loopback)."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40_000))
        return httpx.AsyncClient(transport=transport, base_url=self.gateway_url)

    @staticmethod
    def phone(behaviour: str = "100") -> str:
        """A fresh 07XXXXXXXX number whose last three digits choose the simulator's behaviour
        (`001`..`010`; anything else pays), unique per call so tests never share a phone."""
        return f"07{next(_phones) % 100_000:05d}{behaviour}"

    async def pay(
        self,
        phone: str,
        amount: int = 100,
        *,
        key: str | None = None,
        reference: str = "ACC-1",
        description: str = "Test payment",
        metadata: dict[str, Any] | None = None,
    ) -> httpx.Response:
        return await self.client.post(
            "/v1/payments",
            json={
                "amount": amount,
                "phone": phone,
                "account_reference": reference,
                "description": description,
                "metadata": metadata or {},
            },
            headers={**AUTH, "Idempotency-Key": key or str(uuid.uuid4())},
        )

    @staticmethod
    async def until(
        check: Callable[[], Awaitable[Any]], *, within: float = 10.0, what: str = "condition"
    ) -> Any:
        return await wait_until(check, within=within, what=what)

    async def payment(self, payment_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/payments/{payment_id}", headers=AUTH)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def events(self, payment_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/v1/payments/{payment_id}/events", headers=AUTH)
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()
        return events

    async def wait_status(
        self, payment_id: str, *statuses: str, within: float = 10.0
    ) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            payment = await self.payment(payment_id)
            return payment if payment["status"] in statuses else None

        result: dict[str, Any] = await wait_until(
            reached, within=within, what=f"{payment_id} to become {statuses}"
        )
        return result

    async def checkout(self, checkout_request_id: str) -> dict[str, Any]:
        response = await self.simulator.get(f"/simulator/checkouts/{checkout_request_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def pushes(self, phone: str) -> list[dict[str, Any]]:
        """The STK pushes the simulator received for `phone` (any accepted spelling)."""
        number = "254" + phone.replace(" ", "").replace("-", "")[-9:]
        return [
            p for p in await self.sim_requests("stk_push") if p["body"].get("PhoneNumber") == number
        ]

    async def sim_requests(self, api: str) -> list[dict[str, Any]]:
        response = await self.simulator.get("/simulator/requests", params={"api": api})
        assert response.status_code == 200, response.text
        requests: list[dict[str, Any]] = response.json()["requests"]
        return requests

    async def fault(self, **fault: Any) -> dict[str, Any]:
        response = await self.simulator.post("/simulator/faults", json=fault)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def clear_faults(self) -> None:
        response = await self.simulator.delete("/simulator/faults")
        assert response.status_code == 204, response.text

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.begin() as connection:
            return (await connection.execute(text(sql), params)).scalar()

    async def callbacks_processed(self, payment_id: str, count: int = 1) -> list[str]:
        """Wait for the worker to process `count` stored callbacks of a payment; their outcomes."""

        async def processed() -> list[str] | None:
            outcomes = await self.scalar(
                "SELECT json_agg(outcome ORDER BY id) FROM gateway.callback_inbox "
                "WHERE payment_id = :id AND processed_at IS NOT NULL",
                id=payment_id,
            )
            return outcomes if outcomes and len(outcomes) >= count else None

        outcomes: list[str] = await wait_until(
            processed, what=f"{count} processed callbacks of {payment_id}"
        )
        return outcomes

    async def execute(self, sql: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(text(sql))

    async def callbacks(self, payment_id: str) -> list[dict[str, Any]]:
        """The stored callbacks of a payment, oldest first: outcome, verdict, attempts, note."""
        async with self.engine.begin() as connection:
            rows = await connection.execute(
                text(
                    "SELECT id, outcome, verdict, attempts, note, processed_at "
                    "FROM gateway.callback_inbox WHERE payment_id = :id ORDER BY id"
                ),
                {"id": payment_id},
            )
            return [dict(row._mapping) for row in rows]

    async def callback_url(self, phone: str) -> str:
        """The CallBackURL the gateway gave Daraja for the first push to `phone`."""
        url: str = (await self.pushes(phone))[0]["body"]["CallBackURL"]
        return url

    async def post_callback(self, url: str, body: dict[str, Any]) -> None:
        """Post a callback as an outsider who learned its URL would (from loopback)."""
        async with httpx.AsyncClient() as client:
            response = await client.post(url, json=body)
        assert response.status_code == 200, response.text

    async def start_worker(self) -> RunningWorker:
        self.worker = await start_worker(self.settings, sweeps=self.sweeps)
        return self.worker


SIMULATOR_DEFAULTS: dict[str, Any] = {
    "TIME_SCALE": 0.01,
    "CUSTOMER_RESPONSE_DELAY_S": 15,
    "PROMPT_WINDOW_S": 30,
    "SEED": 7,
}
GATEWAY_DEFAULTS: dict[str, Any] = {
    "API_KEYS": [API_KEY],
    "TIME_SCALE": 0.01,
    # The first poll comes well after the simulated customer answers (CUSTOMER_RESPONSE_DELAY_S)
    # so a callback, confirmed by STK Query first, settles before the poll does.
    "POLL_SCHEDULE_S": [50, 30, 60, 120, 300, 600],
    "PUSH_RETRY_BASE_S": 2,
    "SWEEP_GRACE_S": 30,
    "STATS_REFRESH_S": 3600,
    "DARAJA_QUERY_RATE_PER_SECOND": 200,
    "REFRESH_MIN_INTERVAL_S": 10,
}

# The allow-list stands in for Safaricom's addresses: every callback from loopback (the simulator's,
# and a test's) is believed without asking Daraja, except one contradicting a final state.
LOOPBACK_ALLOW_LIST: dict[str, Any] = {"CALLBACK_ALLOWED_CIDRS": ["127.0.0.0/8"]}

StackFactory = Callable[..., contextlib.AbstractAsyncContextManager[Stack]]


@contextlib.asynccontextmanager
async def running_stack(
    db_engine: AsyncEngine,
    *,
    simulator: dict[str, Any] | None = None,
    gateway: dict[str, Any] | None = None,
    worker: bool = True,
    sweeps: bool = True,
) -> AsyncIterator[Stack]:
    receiver = EventReceiver(secret=RECEIVER_SECRET)
    sim_settings = SimulatorSettings(**{**SIMULATOR_DEFAULTS, **(simulator or {})})
    async with (
        serve_app(create_simulator(sim_settings)) as simulator_url,
        serve_app(receiver.app()) as receiver_url,
    ):
        settings = Settings(
            **{
                **GATEWAY_DEFAULTS,
                # Its own queue and token key: stacks never consume each other's jobs.
                "NAMESPACE": f"test_{uuid.uuid4().hex[:8]}",
                "DARAJA_BASE_URL": simulator_url,
                "WEBHOOK_ENDPOINTS": [
                    WebhookEndpoint(url=f"{receiver_url}/events", secret=RECEIVER_SECRET)
                ],
                **(gateway or {}),
            }
        )
        app = create_gateway(settings)
        async with serve_app(app) as gateway_url:
            # The callback URL needs the port the gateway was just given.
            settings.PUBLIC_BASE_URL = gateway_url
            async with (
                httpx.AsyncClient(base_url=gateway_url, timeout=30) as client,
                httpx.AsyncClient(base_url=simulator_url, timeout=30) as sim_client,
            ):
                stack = Stack(
                    settings=settings,
                    gateway_url=gateway_url,
                    simulator_url=simulator_url,
                    client=client,
                    simulator=sim_client,
                    receiver=receiver,
                    engine=db_engine,
                    app=app,
                    sweeps=sweeps,
                )
                if worker:
                    await stack.start_worker()
                try:
                    yield stack
                finally:
                    if stack.worker is not None:
                        await stack.worker.kill()


@pytest.fixture(scope="session")
async def shared_stack(db_engine: AsyncEngine) -> AsyncIterator[Stack]:
    # No sweeps: this stack lives through other tests' stacks, whose rows it must not adopt.
    async with running_stack(db_engine, sweeps=False) as stack:
        yield stack


@pytest.fixture
async def stack(shared_stack: Stack) -> AsyncIterator[Stack]:
    """The default stack, shared by the tests that need nothing special (starting one costs a
    second): such tests use fresh phones and look only at their own payments."""
    yield shared_stack
    shared_stack.receiver.down = False
    await shared_stack.clear_faults()


@pytest.fixture(scope="session")
async def shared_allow_listed_stack(db_engine: AsyncEngine) -> AsyncIterator[Stack]:
    async with running_stack(db_engine, gateway=LOOPBACK_ALLOW_LIST, sweeps=False) as stack:
        yield stack


@pytest.fixture
async def allow_listed_stack(shared_allow_listed_stack: Stack) -> AsyncIterator[Stack]:
    """A shared stack whose callbacks come from the source allow-list (see `stack`)."""
    yield shared_allow_listed_stack
    shared_allow_listed_stack.receiver.down = False
    await shared_allow_listed_stack.clear_faults()


@pytest.fixture
def make_stack(clean_database: None, redis_client: Redis, db_engine: AsyncEngine) -> StackFactory:
    """A stack of its own, on an empty database:
    `async with make_stack(simulator={...}, gateway={...}, worker=True) as stack:`"""

    def factory(**options: Any) -> contextlib.AbstractAsyncContextManager[Stack]:
        return running_stack(db_engine, **options)

    return factory
