"""The gateway's whole-flow view of the shared harness (``shared.testing.system``): the real
Daraja simulator, the gateway and a signature-checking event receiver, each served over loopback
HTTP, and the gateway's arq worker running in this event loop. :class:`GatewayStack` adds what
the gateway's tests ask of it: paying, reading payments back, the simulator's records, faults,
and the stored callbacks."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from payment_gateway.config import Settings
from shared import webhook_signing
from shared.testing import system as harness
from shared.testing.waiting import WAIT_S, wait_for_change, wait_until
from shared.testing.workers import RunningWorker

API_KEY = harness.SERVICE_KEY
AUTH = {"Authorization": f"Bearer {API_KEY}"}

# What the gateway's tests change from the harness's defaults: quick push retries, sweeps and
# refreshes, so recovery tests run in a fraction of a second.
GATEWAY_SETTINGS: dict[str, Any] = {
    "PUSH_RETRY_BASE_S": 2,
    "SWEEP_GRACE_S": 30,
    "REFRESH_MIN_INTERVAL_S": 10,
}
# The allow-list stands in for Safaricom's addresses: every callback from loopback (the simulator's,
# and a test's) is believed without asking Daraja, except one contradicting a final state.
LOOPBACK_ALLOW_LIST: dict[str, Any] = {"CALLBACK_ALLOWED_CIDRS": ["127.0.0.0/8"]}


@dataclass
class Received:
    webhook_id: str
    event: dict[str, Any]
    timestamp: int


@dataclass
class EventReceiver:
    """A subscriber that checks Standard Webhooks signatures and, like session-api, handles each
    `webhook-id` once: delivery is at least once (a worker killed between the subscriber's 2xx and
    recording it delivers again), so ``events`` keeps the first delivery of each message and
    ``deliveries`` every one."""

    secret: str
    events: list[Received] = field(default_factory=list)
    deliveries: list[Received] = field(default_factory=list)
    attempts: int = 0
    rejected: int = 0
    down: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post(harness.EVENTS_PATH)
        async def receive(request: Request) -> Response:
            self.attempts += 1
            try:
                return await self._receive(request)
            finally:
                self.changed.set()

        return app

    async def _receive(self, request: Request) -> Response:
        if self.down:
            return Response(status_code=503, content=b"down for maintenance")
        body = await request.body()
        try:
            webhook_id = webhook_signing.verify(
                self.secret, headers=request.headers, body=body, now=time.time()
            )
        except webhook_signing.WebhookVerificationError:
            self.rejected += 1
            return Response(status_code=401)
        received = Received(
            webhook_id=webhook_id,
            event=await request.json(),
            timestamp=int(request.headers["webhook-timestamp"]),
        )
        self.deliveries.append(received)
        if all(r.webhook_id != webhook_id for r in self.events):
            self.events.append(received)
        return Response(status_code=204)

    def for_payment(self, payment_id: str) -> list[dict[str, Any]]:
        return [r.event for r in self.events if r.event["data"]["id"] == payment_id]

    def types(self, payment_id: str) -> list[str]:
        return [e["type"] for e in self.for_payment(payment_id)]

    async def wait_for(
        self, payment_id: str, event_type: str, *, count: int = 1, within: float = WAIT_S
    ) -> list[dict[str, Any]]:
        async def arrived() -> list[dict[str, Any]] | None:
            matching = [e for e in self.for_payment(payment_id) if e["type"] == event_type]
            return matching if len(matching) >= count else None

        found: list[dict[str, Any]] = await wait_for_change(
            self.changed, arrived, within=within, what=f"{event_type} for {payment_id}"
        )
        return found


@dataclass
class GatewayStack:
    """The running system, seen from the gateway's API, the simulator's control API and the
    gateway's tables."""

    system: harness.System
    receiver: EventReceiver
    engine: AsyncEngine

    phone = staticmethod(harness.phone)

    @property
    def settings(self) -> Settings:
        return self.system.gateway_settings

    @property
    def app(self) -> FastAPI:
        return self.system.gateway_app

    @property
    def client(self) -> httpx.AsyncClient:
        return self.system.gateway

    @property
    def simulator(self) -> httpx.AsyncClient:
        return self.system.simulator

    @property
    def gateway_url(self) -> str:
        return self.system.gateway_url

    @property
    def simulator_url(self) -> str:
        return self.system.simulator_url

    @property
    def worker(self) -> RunningWorker | None:
        return self.system.worker

    async def start_worker(self) -> RunningWorker:
        return await self.system.start_worker()

    def client_from(self, address: str) -> httpx.AsyncClient:
        """Talk to the running gateway in-process as if from `address` (the served app's
        uvicorn would rewrite the peer from X-Forwarded-For on loopback)."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40_000))
        return httpx.AsyncClient(transport=transport, base_url=self.gateway_url)

    @staticmethod
    async def until(
        check: Callable[[], Awaitable[Any]], *, within: float = WAIT_S, what: str = "condition"
    ) -> Any:
        return await wait_until(check, within=within, what=what)

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

    async def payment(self, payment_id: str) -> dict[str, Any]:
        payment: dict[str, Any] = await self._get_json(
            self.client, f"/v1/payments/{payment_id}", AUTH
        )
        return payment

    async def events(self, payment_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = await self._get_json(
            self.client, f"/v1/payments/{payment_id}/events", AUTH
        )
        return events

    async def wait_status(
        self, payment_id: str, *statuses: str, within: float = WAIT_S
    ) -> dict[str, Any]:
        async def reached() -> dict[str, Any] | None:
            payment = await self.payment(payment_id)
            return payment if payment["status"] in statuses else None

        result: dict[str, Any] = await wait_until(
            reached, within=within, what=f"{payment_id} to become {statuses}"
        )
        return result

    async def checkout(self, checkout_request_id: str) -> dict[str, Any]:
        checkout: dict[str, Any] = await self._get_json(
            self.simulator, f"/simulator/checkouts/{checkout_request_id}", {}
        )
        return checkout

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

    async def execute(self, sql: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(text(sql))

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

    async def reset(self) -> None:
        """Put a shared stack back for the next test: the receiver up, no faults."""
        self.receiver.down = False
        await self.clear_faults()

    @staticmethod
    async def _get_json(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()


StackFactory = Callable[..., contextlib.AbstractAsyncContextManager[GatewayStack]]


@contextlib.asynccontextmanager
async def running_stack(
    engine: AsyncEngine,
    *,
    simulator: dict[str, Any] | None = None,
    gateway: dict[str, Any] | None = None,
    worker: bool = True,
    sweeps: bool = True,
) -> AsyncIterator[GatewayStack]:
    receiver = EventReceiver(secret=harness.EVENT_SECRET)
    async with harness.run_system(
        receiver.app(),
        simulator=simulator,
        gateway={**GATEWAY_SETTINGS, **(gateway or {})},
        worker=worker,
        sweeps=sweeps,
    ) as running:
        yield GatewayStack(system=running, receiver=receiver, engine=engine)
