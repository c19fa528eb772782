"""STK Push and Query against the Daraja simulator served over loopback: real HTTP, real Redis,
the simulator's own checks of passwords, tokens and fields."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from payment_gateway.integrations.daraja import (
    DarajaAuthError,
    DarajaClient,
    DarajaRateLimited,
    DarajaRejected,
    DarajaSubscriberBusy,
    DarajaUnavailable,
    outcome_for,
    parse_stk_callback,
)
from tests.payment_gateway.integrations.daraja.simulator.harness import (
    PHONE,
    Receiver,
    Simulator,
    SimulatorConfig,
    SimulatorFactory,
    push,
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
    assert outcome_for(query.result_code or "").reason == "paid"
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
    simulator_config: SimulatorConfig,
    make_simulator: SimulatorFactory,
    redis_client: Redis,
    receiver: Receiver,
    style: str,
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
    simulator_config: SimulatorConfig,
    make_simulator: SimulatorFactory,
    redis_client: Redis,
    receiver: Receiver,
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
    simulator_config: SimulatorConfig, simulator: Simulator, redis_client: Redis, receiver: Receiver
) -> None:
    config = simulator_config(simulator, passkey=SecretStr("not-the-passkey"))
    async with DarajaClient(config, redis=redis_client) as daraja:
        with pytest.raises(DarajaRejected, match="Wrong credentials") as raised:
            await push(daraja, receiver)
    assert raised.value.retryable is False
    assert await simulator.count("stk_push") == 1


@pytest.mark.parametrize("empty_body", [False, True])
async def test_a_wrong_consumer_secret_is_an_auth_error(
    simulator_config: SimulatorConfig,
    make_simulator: SimulatorFactory,
    redis_client: Redis,
    receiver: Receiver,
    empty_body: bool,
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
    simulator_config: SimulatorConfig,
    simulator: Simulator,
    redis_client: Redis,
    redis_url: str,
    receiver: Receiver,
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
    simulator_config: SimulatorConfig,
    make_simulator: SimulatorFactory,
    redis_client: Redis,
    receiver: Receiver,
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
    simulator_config: SimulatorConfig, simulator: Simulator, redis_client: Redis, receiver: Receiver
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
