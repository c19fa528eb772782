"""The client against the Daraja simulator served over loopback: real HTTP, real Redis, the
simulator's own checks of passwords, tokens and fields."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from pydantic import SecretStr
from redis.asyncio import Redis

from daraja_simulator.config import Settings as SimulatorSettings
from daraja_simulator.main import create_app as create_simulator
from daraja_simulator.state import SimulatorState
from daraja_simulator.testing import FAST
from payment_gateway.integrations.daraja import (
    DarajaAuthError,
    DarajaClient,
    DarajaConfig,
    DarajaRateLimited,
    DarajaRejected,
    DarajaSubscriberBusy,
    DarajaUnavailable,
    StkPushAccepted,
    outcome_for,
    parse_stk_callback,
)
from shared.testing import serve_app

SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
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


@pytest.fixture(scope="module")
async def merchant() -> AsyncIterator[Merchant]:
    server = Merchant()
    async with serve_app(server.app) as url:
        server.base_url = url
        yield server


@pytest.fixture
def receiver(merchant: Merchant) -> Receiver:
    return Receiver(merchant=merchant, prefix=f"/t{uuid.uuid4().hex[:12]}")


@asynccontextmanager
async def running_simulator(**overrides: Any) -> AsyncIterator[Simulator]:
    app = create_simulator(SimulatorSettings(**{**FAST, **overrides}))
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url) as control:
        simulator = Simulator(url=url, state=app.state.simulator, control=control)
        yield simulator
        await simulator.idle()


@pytest.fixture
def make_simulator() -> SimulatorFactory:
    """A simulator of its own, for the tests that change its settings."""
    return running_simulator


@pytest.fixture(scope="module")
async def shared_simulator() -> AsyncIterator[Simulator]:
    async with running_simulator() as running:
        yield running


@pytest.fixture
async def simulator(shared_simulator: Simulator) -> AsyncIterator[Simulator]:
    """The module's simulator with the default settings, reset for this test."""
    reset = await shared_simulator.control.post("/simulator/reset")
    assert reset.status_code == 204, reset.text
    yield shared_simulator
    await shared_simulator.idle()


def simulator_config(simulator: Simulator, **overrides: Any) -> DarajaConfig:
    fields: dict[str, Any] = {
        "base_url": simulator.url,
        "consumer_key": "test-consumer-key",
        "consumer_secret": SecretStr("test-consumer-secret"),
        "shortcode": "174379",
        "party_b": "174379",
        "passkey": SecretStr(SANDBOX_PASSKEY),
        "transaction_type": "CustomerPayBillOnline",
        "environment": "sandbox",
        "query_backoff_base_s": 0.001,
        "query_backoff_cap_s": 0.005,
        "query_rate_per_second": 10_000,
        "token_poll_interval_s": 0.005,
    }
    fields.update(overrides)
    return DarajaConfig(**fields)


@pytest.fixture
async def daraja(simulator: Simulator, redis_client: Redis) -> AsyncIterator[DarajaClient]:
    async with DarajaClient(simulator_config(simulator), redis=redis_client) as client:
        yield client


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


async def test_a_payment_end_to_end(
    daraja: DarajaClient, simulator: Simulator, receiver: Receiver
) -> None:
    accepted = await push(daraja, receiver, amount=25)
    assert accepted.checkout_request_id.startswith("ws_CO_")

    [delivery] = await receiver.wait_for(1)
    callback = parse_stk_callback(delivery.raw)
    ledger = (await simulator.control.get("/simulator/ledger")).json()["entries"]
    query = await daraja.stk_query(accepted.checkout_request_id)

    assert callback.checkout_request_id == accepted.checkout_request_id
    assert callback.merchant_request_id == accepted.merchant_request_id
    assert callback.is_success and callback.amount == 25 and callback.phone == PHONE
    assert callback.balance is None and "Balance" in callback.metadata
    assert callback.transaction_date is not None
    assert abs(callback.transaction_date - datetime.now(UTC)) < timedelta(minutes=1)
    assert [e["receipt"] for e in ledger] == [callback.receipt_number]
    assert (query.result_code, query.pending) == ("0", False)
    assert query.result_code is not None
    assert outcome_for(query.result_code).reason == "paid"
    assert await simulator.count("oauth") == 1
    assert await simulator.count("stk_push") == 1


@pytest.mark.parametrize(
    ("suffix", "code", "status", "reason"),
    [
        ("001", "1032", "cancelled", "customer_cancelled"),
        ("002", "1", "failed", "insufficient_funds"),
        ("003", "2001", "failed", "wrong_pin"),
        ("004", "1037", "timeout", "phone_unreachable"),
        ("007", "1019", "timeout", "prompt_expired"),
    ],
)
async def test_customer_behaviours_reach_their_outcomes(
    daraja: DarajaClient,
    receiver: Receiver,
    suffix: str,
    code: str,
    status: str,
    reason: str,
) -> None:
    accepted = await push(daraja, receiver, phone=f"254708374{suffix}")
    [delivery] = await receiver.wait_for(1)
    callback = parse_stk_callback(delivery.raw)
    query = await daraja.stk_query(accepted.checkout_request_id)

    assert callback.result_code == query.result_code == code
    assert not callback.is_success and callback.amount is None
    outcome = outcome_for(callback.result_code)
    assert (outcome.status, outcome.reason) == (status, reason)


@pytest.mark.parametrize("style", ["error", "4999"])
async def test_an_unanswered_prompt_is_pending_then_final(
    make_simulator: SimulatorFactory, redis_client: Redis, receiver: Receiver, style: str
) -> None:
    async with (
        make_simulator(
            AUTO_RESPOND=False, PROMPT_WINDOW_S=10_000, QUERY_PENDING_STYLE=style
        ) as simulator,
        DarajaClient(simulator_config(simulator), redis=redis_client) as daraja,
    ):
        accepted = await push(daraja, receiver)
        pending = await daraja.stk_query(accepted.checkout_request_id)
        approved = await simulator.control.post(
            f"/simulator/prompts/{accepted.checkout_request_id}/approve"
        )
        await receiver.wait_for(1)
        final = await daraja.stk_query(accepted.checkout_request_id)

    assert approved.status_code == 200, approved.text
    assert (pending.pending, pending.result_code) == (True, None)
    assert (final.pending, final.result_code) == (False, "0")


async def test_a_second_prompt_to_a_busy_phone_is_subscriber_busy(
    make_simulator: SimulatorFactory, redis_client: Redis, receiver: Receiver
) -> None:
    async with (
        make_simulator(AUTO_RESPOND=False, PROMPT_WINDOW_S=10_000) as simulator,
        DarajaClient(simulator_config(simulator), redis=redis_client) as daraja,
    ):
        first = await push(daraja, receiver)
        with pytest.raises(DarajaSubscriberBusy) as raised:
            await push(daraja, receiver, amount=11)
        await simulator.control.post(f"/simulator/prompts/{first.checkout_request_id}/cancel")
    assert raised.value.retryable and raised.value.retry_after_s == 60
    assert raised.value.error_code == "500.001.1001"


async def test_a_wrong_passkey_is_rejected_once(
    simulator: Simulator, redis_client: Redis, receiver: Receiver
) -> None:
    config = simulator_config(simulator, passkey=SecretStr("not-the-passkey"))
    async with DarajaClient(config, redis=redis_client) as daraja:
        with pytest.raises(DarajaRejected, match="Wrong credentials") as raised:
            await push(daraja, receiver)
    assert raised.value.retryable is False
    assert await simulator.count("stk_push") == 1


@pytest.mark.parametrize("empty_body", [False, True])
async def test_a_wrong_consumer_secret_is_an_auth_error(
    make_simulator: SimulatorFactory, redis_client: Redis, receiver: Receiver, empty_body: bool
) -> None:
    async with make_simulator(OAUTH_BAD_CREDENTIALS_EMPTY_BODY=empty_body) as simulator:
        config = simulator_config(simulator, consumer_secret=SecretStr("wrong"))
        async with DarajaClient(config, redis=redis_client) as daraja:
            with pytest.raises(DarajaAuthError) as raised:
                await push(daraja, receiver)
        assert await simulator.count("stk_push") == 0
    assert raised.value.http_status == 400
    assert raised.value.error_code == (None if empty_body else "400.008.01")


async def test_tokens_invalidated_by_daraja_are_refreshed_once(
    daraja: DarajaClient, simulator: Simulator, receiver: Receiver
) -> None:
    await push(daraja, receiver, phone="254708374111")
    invalidated = await simulator.control.post("/simulator/tokens/invalidate")
    assert invalidated.json()["invalidated"] == 1

    await push(daraja, receiver, phone="254708374112")

    assert await simulator.count("oauth") == 2
    assert await simulator.count("stk_push", status=404) == 1
    assert await simulator.count("stk_push", status=200) == 2


async def test_two_processes_share_one_token(
    simulator: Simulator, redis_client: Redis, redis_url: str, receiver: Receiver
) -> None:
    other_redis: Redis = Redis.from_url(redis_url)
    try:
        async with (
            DarajaClient(simulator_config(simulator), redis=redis_client) as first,
            DarajaClient(simulator_config(simulator), redis=other_redis) as second,
        ):
            await asyncio.gather(
                *(
                    push(client, receiver, phone=f"2547083742{i:02d}")
                    for i in range(20)
                    for client in [(first, second)[i % 2]]
                )
            )
    finally:
        await other_redis.aclose()
    # The simulator invalidates a token when it issues the next: a second fetch would also show
    # as refused pushes.
    assert await simulator.count("oauth") == 1
    assert await simulator.count("stk_push", status=200) == 20


async def test_expires_in_as_a_number(
    make_simulator: SimulatorFactory, redis_client: Redis, receiver: Receiver
) -> None:
    async with (
        make_simulator(TOKEN_EXPIRES_IN_AS_NUMBER=True, TOKEN_TTL_S=600) as simulator,
        DarajaClient(simulator_config(simulator), redis=redis_client) as daraja,
    ):
        await push(daraja, receiver)
    assert 539_000 < await redis_client.pttl(daraja.tokens.key) <= 540_000


async def test_an_outage_fails_the_push_without_a_retry(
    daraja: DarajaClient, simulator: Simulator, receiver: Receiver
) -> None:
    await simulator.fault(kind="outage", count=1, path="/mpesa/stkpush/v1/processrequest")
    with pytest.raises(DarajaUnavailable) as raised:
        await push(daraja, receiver)
    assert raised.value.http_status == 503 and raised.value.maybe_processed is False
    assert await simulator.count("stk_push") == 1

    await push(daraja, receiver)
    assert await simulator.count("stk_push", status=200) == 1


async def test_a_query_rides_out_a_short_outage(
    daraja: DarajaClient, simulator: Simulator, receiver: Receiver
) -> None:
    accepted = await push(daraja, receiver)
    await receiver.wait_for(1)
    await simulator.fault(kind="outage", count=2, path="/mpesa/stkpushquery/v1/query")

    result = await daraja.stk_query(accepted.checkout_request_id)

    assert result.result_code == "0"
    assert await simulator.count("stk_query") == 3


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("spike_arrest", "spike_arrest"), ("quota", "quota"), ("system_busy", "system_busy")],
)
async def test_throttling_is_rate_limited_and_left_to_the_caller(
    daraja: DarajaClient, simulator: Simulator, receiver: Receiver, kind: str, expected: str
) -> None:
    accepted = await push(daraja, receiver)
    await simulator.fault(kind=kind, count=1, path="/mpesa/stkpushquery/v1/query")
    with pytest.raises(DarajaRateLimited) as raised:
        await daraja.stk_query(accepted.checkout_request_id)
    assert raised.value.kind == expected
    assert await simulator.count("stk_query") == 1


async def test_a_slow_daraja_hits_the_read_timeout(
    simulator: Simulator, redis_client: Redis, receiver: Receiver
) -> None:
    config = simulator_config(simulator, read_timeout_s=0.05)
    async with DarajaClient(config, redis=redis_client) as daraja:
        await daraja.tokens.get()
        await simulator.fault(
            kind="latency", latency_s=0.5, count=1, path="/mpesa/stkpush/v1/processrequest"
        )
        with pytest.raises(DarajaUnavailable) as raised:
            await push(daraja, receiver)
        # Daraja went on with the push we gave up on: the phone rings all the same.
        await simulator.state.wait_until(lambda: len(simulator.state.checkouts.all()) == 1)
    assert raised.value.maybe_processed is True
    assert isinstance(raised.value.__cause__, httpx.ReadTimeout)


async def test_transaction_status_finds_a_payment(
    daraja: DarajaClient, simulator: Simulator, receiver: Receiver
) -> None:
    accepted = await push(daraja, receiver)
    [delivery] = await receiver.wait_for(1)
    receipt = parse_stk_callback(delivery.raw).receipt_number

    ack = await daraja.transaction_status(
        transaction_id=receipt,
        originator_conversation_id=None,
        result_url=receiver.url("/v1/results/status"),
        timeout_url=receiver.url("/v1/results/timeout"),
        initiator="testapi",
        security_credential="credential",
    )
    [status_result] = await receiver.wait_for(1, path="/v1/results/status")

    assert ack.response_code == "0" and ack.conversation_id
    result = status_result.body["Result"]
    assert result["ResultCode"] == 0
    parameters = {p["Key"]: p.get("Value") for p in result["ResultParameters"]["ResultParameter"]}
    assert parameters["ReceiptNo"] == receipt
    assert parameters["ConversationID"] == accepted.checkout_request_id


async def test_pull_transactions_lists_completed_payments(
    daraja: DarajaClient, receiver: Receiver
) -> None:
    await push(daraja, receiver, amount=40)
    [delivery] = await receiver.wait_for(1)
    receipt = parse_stk_callback(delivery.raw).receipt_number

    registration = await daraja.register_pull(
        nominated_number="0722000000", callback_url=receiver.url("/v1/pull")
    )
    again = await daraja.register_pull(
        nominated_number="0722000000", callback_url=receiver.url("/v1/pull")
    )
    now = datetime.now(UTC)
    page = await daraja.pull_transactions(
        start=now - timedelta(hours=1), end=now + timedelta(minutes=5)
    )

    assert (registration.response_status, again.response_status) == ("1000", "1001")
    assert page.response_code == "1000"
    assert [(t.transaction_id, t.amount) for t in page.transactions] == [(receipt, Decimal(40))]
    transaction = page.transactions[0]
    assert transaction.transaction_date is not None
    assert abs(transaction.transaction_date - now) < timedelta(minutes=1)
