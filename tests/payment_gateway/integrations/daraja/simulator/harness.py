"""The world the client meets in these tests: the Daraja simulator served over loopback, and a
merchant server that records every result the simulator posts back."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

from daraja_simulator.config import Settings as SimulatorSettings
from daraja_simulator.main import create_app as create_simulator
from daraja_simulator.state import SimulatorState
from daraja_simulator.testing import FAST
from payment_gateway.integrations.daraja import DarajaClient, DarajaConfig, StkPushAccepted
from shared.testing import serve_app

PHONE = "254708374149"
CALLBACK_PATH = "/v1/callbacks/stk/t0ken"
ACCEPTED = '{"ResultCode": 0, "ResultDesc": "Accepted"}'


@dataclass
class Simulator:
    url: str
    state: SimulatorState
    control: httpx.AsyncClient

    async def count(self, api: str, **filters: Any) -> int:
        response = await self.control.get("/simulator/requests", params={"api": api, **filters})
        count: int = response.json()["count"]
        return count

    async def fault(self, **fault: Any) -> None:
        response = await self.control.post("/simulator/faults", json=fault)
        assert response.status_code in (200, 201), response.text

    async def idle(self) -> None:
        await self.state.wait_until(lambda: not self.state.busy)


SimulatorFactory = Callable[..., AbstractAsyncContextManager[Simulator]]


@dataclass(frozen=True)
class Delivery:
    path: str
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


class Merchant:
    """The merchant side, served once per module: records every POST the simulator makes and
    lets a test await them."""

    def __init__(self) -> None:
        self.base_url = ""
        self.deliveries: list[Delivery] = []
        self._arrived = asyncio.Condition()
        self.app = FastAPI()
        self.app.add_api_route("/{path:path}", self._receive, methods=["POST"])

    async def _receive(self, request: Request, path: str) -> Response:
        async with self._arrived:
            self.deliveries.append(Delivery(path=f"/{path}", raw=await request.body()))
            self._arrived.notify_all()
        return Response(ACCEPTED, media_type="application/json")

    def at(self, path: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.path == path]

    async def wait_for(self, count: int, path: str) -> list[Delivery]:
        async with asyncio.timeout(5), self._arrived:
            await self._arrived.wait_for(lambda: len(self.at(path)) >= count)
        return self.at(path)


@dataclass(frozen=True)
class Receiver:
    """One test's view of the merchant: its own path prefix, so stragglers of other tests never
    mix in."""

    merchant: Merchant
    prefix: str

    def url(self, path: str) -> str:
        return f"{self.merchant.base_url}{self.prefix}{path}"

    async def wait_for(self, count: int, path: str = CALLBACK_PATH) -> list[Delivery]:
        return await self.merchant.wait_for(count, f"{self.prefix}{path}")


@asynccontextmanager
async def running_simulator(**overrides: Any) -> AsyncIterator[Simulator]:
    app = create_simulator(SimulatorSettings(**{**FAST, **overrides}))
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url) as control:
        simulator = Simulator(url=url, state=app.state.simulator, control=control)
        yield simulator
        await simulator.idle()


SimulatorConfig = Callable[..., DarajaConfig]


async def push(
    daraja: DarajaClient, receiver: Receiver, phone: str = PHONE, amount: int = 10
) -> StkPushAccepted:
    return await daraja.stk_push(
        phone=phone,
        amount=amount,
        account_reference="ORDER-1",
        description="Order 1",
        callback_url=receiver.url(CALLBACK_PATH),
    )
