"""Helpers for driving the simulator in-process from tests and benchmarks: its Daraja paths, a
client wrapper that builds valid requests, and field-by-field checks of Daraja's error envelope.

Callbacks still go out over real HTTP, to a :class:`daraja_simulator.receiver.CallbackReceiver`
served on loopback.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from daraja_simulator.clock import daraja_timestamp
from daraja_simulator.config import SANDBOX_PASSKEY, Settings
from daraja_simulator.main import create_app
from daraja_simulator.receiver import CallbackReceiver
from daraja_simulator.state import SimulatorState
from daraja_simulator.stk.repository import Checkout
from daraja_simulator.stk.validation import expected_password

PUSH = "/mpesa/stkpush/v1/processrequest"
QUERY = "/mpesa/stkpushquery/v1/query"
STATUS = "/mpesa/transactionstatus/v1/query"
PULL_REGISTER = "/pulltransactions/v1/register"
PULL_QUERY = "/pulltransactions/v1/query"
OAUTH = "/oauth/v1/generate?grant_type=client_credentials"
KEY, SECRET = "test-consumer-key", "test-consumer-secret"
PAYBILL = "174379"
PHONE = "254708374149"

# At this scale the 5 s customer delay is 5 ms and the long delay of behaviour 008 0.3 s. The
# prompt window is 1 s: at 60 ms a manual prompt could expire on a busy machine before the test
# answered or queried it (seen: a 4999 query answered 1019).
FAST: dict[str, Any] = {
    "TIME_SCALE": 0.001,
    "SEED": 7,
    "LONG_DELAY_S": 300.0,
    "PROMPT_WINDOW_S": 1000.0,
    # Any free port: suites run side by side.
    "SMTP_PORT": 0,
}


@dataclass
class Receiver:
    """A view of a shared :class:`CallbackReceiver` limited to paths under ``prefix``, so one
    served receiver can serve many tests without their callbacks mixing."""

    receiver: CallbackReceiver
    base_url: str
    prefix: str

    def url(self, path: str = "/callbacks/stk/t0ken") -> str:
        return f"{self.base_url}{self.prefix}{path}"

    @property
    def raw(self) -> list[bytes]:
        return [r.raw for r in self.receiver.under(self.prefix)]

    @property
    def received(self) -> list[Any]:
        return [r.body for r in self.receiver.under(self.prefix)]

    def at(self, path: str) -> list[Any]:
        return [r.body for r in self.receiver.under(f"{self.prefix}{path}")]

    async def wait_for(self, count: int, *, path: str = "") -> None:
        await self.receiver.wait_for(count, prefix=f"{self.prefix}{path}")


@dataclass
class Sim:
    client: httpx.AsyncClient
    state: SimulatorState
    settings: Settings
    callback_url: str

    async def token(self, key: str = KEY, secret: str = SECRET) -> str:
        response = await self.client.get(OAUTH, auth=(key, secret))
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def timestamp(self) -> str:
        return daraja_timestamp(self.state.clock.now())

    def password(self, timestamp: str, shortcode: str = PAYBILL) -> str:
        merchant = self.settings.shortcode(shortcode)
        passkey = merchant.passkey if merchant else SANDBOX_PASSKEY
        return expected_password(shortcode=shortcode, passkey=passkey, timestamp=timestamp)

    def push_body(self, **fields: Any) -> dict[str, Any]:
        stamp = self.timestamp()
        body: dict[str, Any] = {
            "BusinessShortCode": PAYBILL,
            "Password": self.password(stamp),
            "Timestamp": stamp,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": "10",
            "PartyA": PHONE,
            "PartyB": PAYBILL,
            "PhoneNumber": PHONE,
            "CallBackURL": self.callback_url,
            "AccountReference": "ORDER-1",
            "TransactionDesc": "Order 1",
        }
        body.update(fields)
        return body

    async def push_raw(self, body: Any, *, token: str | None = None) -> httpx.Response:
        bearer = token if token is not None else await self.token()
        return await self.client.post(
            PUSH, json=body, headers={"Authorization": f"Bearer {bearer}"}
        )

    async def push(self, *, token: str | None = None, **fields: Any) -> httpx.Response:
        return await self.push_raw(self.push_body(**fields), token=token)

    async def pushed(self, **fields: Any) -> str:
        """Push and return the CheckoutRequestID; fails the test if Daraja refused."""
        response = await self.push(**fields)
        assert response.status_code == 200, response.text
        checkout_request_id: str = response.json()["CheckoutRequestID"]
        return checkout_request_id

    async def query(
        self, checkout_request_id: str, *, token: str | None = None, shortcode: str = PAYBILL
    ) -> httpx.Response:
        bearer = token if token is not None else await self.token()
        stamp = self.timestamp()
        body = {
            "BusinessShortCode": shortcode,
            "Password": self.password(stamp, shortcode),
            "Timestamp": stamp,
            "CheckoutRequestID": checkout_request_id,
        }
        return await self.client.post(
            QUERY, json=body, headers={"Authorization": f"Bearer {bearer}"}
        )

    def checkout(self, checkout_request_id: str) -> Checkout:
        checkout = self.state.checkouts.get(checkout_request_id)
        assert checkout is not None
        return checkout

    async def settled(self, checkout_request_id: str) -> Checkout:
        """Wait until the customer's answer is settled (the prompt is closed)."""
        checkout = self.checkout(checkout_request_id)
        await self.state.wait_until(lambda: checkout.outcome is not None)
        return checkout

    async def idle(self) -> None:
        """Wait until no background work (customers, reports, deliveries) is left."""
        await self.state.wait_until(lambda: not self.state.busy)


def decimal_json(raw: bytes) -> Any:
    """Parse as Daraja's clients should: amounts as Decimal, never float."""
    return json.loads(raw, parse_float=Decimal)


def assert_daraja_error(
    response: httpx.Response, *, status: int, code: str, message: str
) -> dict[str, Any]:
    """The Daraja error envelope, field by field."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"requestId", "errorCode", "errorMessage"}
    assert isinstance(body["requestId"], str) and body["requestId"]
    assert body["errorCode"] == code
    assert body["errorMessage"] == message
    return body


# ``async with make_sim(SETTING=value) as sim`` (the tests' fixture).
SimFactory = Callable[..., AbstractAsyncContextManager[Sim]]


@asynccontextmanager
async def open_simulator(settings: Settings, *, callback_url: str) -> AsyncIterator[Sim]:
    """Run the simulator's lifespan and talk to it in-process."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            yield Sim(
                client=client,
                state=app.state.simulator,
                settings=settings,
                callback_url=callback_url,
            )
