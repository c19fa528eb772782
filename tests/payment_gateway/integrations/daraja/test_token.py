import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx
from redis.asyncio import Redis

from payment_gateway.integrations.daraja import (
    DarajaAuthError,
    DarajaClient,
    DarajaConfig,
    DarajaRateLimited,
    DarajaUnavailable,
)
from payment_gateway.integrations.daraja.token import app_key

QUERY = "/mpesa/stkpushquery/v1/query"
TOKEN_KEY = f"daraja:token:{app_key('sandbox', 'ck-test')}"
INVALID_TOKEN = {
    "requestId": "10219-2484793-1",
    "errorCode": "404.001.03",
    "errorMessage": "Invalid Access Token",
}
FINAL = {
    "ResponseCode": "0",
    "ResponseDescription": "The service request has been accepted successfully",
    "MerchantRequestID": "22205-34066-1",
    "CheckoutRequestID": "ws_CO_13012021093521236557",
    "ResultCode": "0",
    "ResultDesc": "The service request is processed successfully.",
}


@pytest.fixture
async def second_redis(redis_url: str) -> AsyncIterator[Redis]:
    """Another connection to the same Redis: what a second gateway process would hold."""
    other: Redis = Redis.from_url(redis_url)
    yield other
    await other.aclose()


def gated_token_route(
    daraja_mock: respx.MockRouter, *tokens: str
) -> tuple[respx.Route, asyncio.Event, asyncio.Event]:
    """An OAuth route that signals when a fetch starts and answers only once released."""
    started, release = asyncio.Event(), asyncio.Event()
    issued = iter(tokens)

    async def answer(request: httpx.Request) -> httpx.Response:
        started.set()
        await release.wait()
        return httpx.Response(200, json={"access_token": next(issued), "expires_in": "3599"})

    return daraja_mock.get("/oauth/v1/generate").mock(side_effect=answer), started, release


async def test_many_concurrent_callers_make_one_token_request(
    client: DarajaClient, daraja_mock: respx.MockRouter
) -> None:
    route, started, release = gated_token_route(daraja_mock, "tok-1", "tok-2")
    callers = [asyncio.create_task(client.tokens.get()) for _ in range(50)]
    await started.wait()
    release.set()
    assert set(await asyncio.gather(*callers)) == {"tok-1"}
    assert route.call_count == 1


async def test_concurrent_pushes_share_one_token_request(
    client: DarajaClient, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    daraja_mock.post("/mpesa/stkpush/v1/processrequest").respond(
        json={"MerchantRequestID": "m", "CheckoutRequestID": "ws_CO_1", "ResponseCode": "0"}
    )
    await asyncio.gather(
        *(
            client.stk_push(
                phone=f"2547{i:08d}",
                amount=1,
                account_reference="A",
                description="B",
                callback_url="https://x",
            )
            for i in range(30)
        )
    )
    assert token_route.call_count == 1


async def test_two_clients_sharing_redis_fetch_one_token(
    config: DarajaConfig,
    redis_client: Redis,
    second_redis: Redis,
    daraja_mock: respx.MockRouter,
) -> None:
    route, started, release = gated_token_route(daraja_mock, "tok-1", "tok-2")
    async with (
        DarajaClient(config, redis=redis_client) as first,
        DarajaClient(config, redis=second_redis) as second,
    ):
        waiting = asyncio.Event()
        wait_for_other = second.tokens._wait_for_other_fetcher

        async def note_waiting(deadline: float) -> Any:
            waiting.set()
            return await wait_for_other(deadline)

        second.tokens._wait_for_other_fetcher = note_waiting  # type: ignore[method-assign]

        first_get = asyncio.create_task(first.tokens.get())
        await started.wait()
        second_get = asyncio.create_task(second.tokens.get())
        await waiting.wait()
        release.set()

        assert await first_get == await second_get == "tok-1"
    assert route.call_count == 1


async def test_invalidation_by_concurrent_callers_in_two_processes_refreshes_once(
    config: DarajaConfig,
    redis_client: Redis,
    second_redis: Redis,
    daraja_mock: respx.MockRouter,
) -> None:
    await redis_client.set(TOKEN_KEY, "stale", px=3_000_000)
    tokens = daraja_mock.get("/oauth/v1/generate").respond(
        json={"access_token": "fresh", "expires_in": 3599}
    )
    seen: list[str] = []
    all_sent_with_stale = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer fresh":
            return httpx.Response(200, json=FINAL)
        # Hold every refusal until all ten calls went out with the stale token, so their
        # invalidations and refreshes overlap.
        if seen.count("Bearer stale") == 10:
            all_sent_with_stale.set()
        await all_sent_with_stale.wait()
        return httpx.Response(404, json=INVALID_TOKEN)

    daraja_mock.post(QUERY).mock(side_effect=answer)
    async with (
        DarajaClient(config, redis=redis_client) as first,
        DarajaClient(config, redis=second_redis) as second,
    ):
        results = await asyncio.gather(
            *(daraja.stk_query(f"ws_CO_{i}") for i in range(5) for daraja in (first, second))
        )

    assert [r.result_code for r in results] == ["0"] * 10
    assert tokens.call_count == 1
    assert seen.count("Bearer stale") == 10 and seen.count("Bearer fresh") == 10
    assert await redis_client.get(TOKEN_KEY) == b"fresh"


async def test_invalidate_keeps_a_token_another_process_already_replaced(
    client: DarajaClient, redis_client: Redis
) -> None:
    await redis_client.set(TOKEN_KEY, "new")
    assert await client.tokens.invalidate("old") is False
    assert await client.tokens.cached() == "new"
    assert await client.tokens.invalidate("new") is True
    assert await client.tokens.cached() is None


@pytest.mark.parametrize("expires_in", ["3599", 3599, 3599.0, "3599.0"])
async def test_token_is_kept_until_the_refresh_margin_before_expiry(
    client: DarajaClient,
    redis_client: Redis,
    daraja_mock: respx.MockRouter,
    expires_in: object,
) -> None:
    route = daraja_mock.get("/oauth/v1/generate").respond(
        json={"access_token": "tok-1", "expires_in": expires_in}
    )
    assert await client.tokens.get() == "tok-1"
    ttl_ms = await redis_client.pttl(TOKEN_KEY)
    assert 3_538_000 < ttl_ms <= 3_539_000
    assert await client.tokens.get() == "tok-1"
    assert route.call_count == 1
    # Redis drops the key at the margin; the next caller fetches a new token.
    await redis_client.delete(TOKEN_KEY)
    await client.tokens.get()
    assert route.call_count == 2


async def test_a_lifetime_shorter_than_twice_the_margin_is_refreshed_halfway(
    client: DarajaClient, redis_client: Redis, daraja_mock: respx.MockRouter
) -> None:
    daraja_mock.get("/oauth/v1/generate").respond(json={"access_token": "t", "expires_in": "100"})
    await client.tokens.get()
    assert 49_000 < await redis_client.pttl(TOKEN_KEY) <= 50_000


async def test_keys_are_per_environment_and_consumer_key(
    redis_client: Redis,
    daraja_mock: respx.MockRouter,
    token_route: respx.Route,
    make_config: Callable[..., DarajaConfig],
) -> None:
    async with (
        DarajaClient(make_config(), redis=redis_client) as one,
        DarajaClient(make_config(consumer_key="other"), redis=redis_client) as two,
        DarajaClient(
            make_config(environment="production", base_url="https://daraja.test"),
            redis=redis_client,
        ) as three,
    ):
        for daraja in (one, two, three):
            await daraja.tokens.get()
    assert token_route.call_count == 3
    keys = await redis_client.keys("daraja:token:*")
    assert sorted(keys) == sorted(
        f"daraja:token:{app_key(environment, consumer_key)}".encode()
        for environment, consumer_key in [
            ("production", "ck-test"),
            ("sandbox", "ck-test"),
            ("sandbox", "other"),
        ]
    )
    # A key name is visible to anyone with KEYS or MONITOR, and is logged: no credential in it.
    assert not [k for k in keys if b"ck-test" in k or b"other" in k]


async def test_a_waiter_takes_over_when_the_lock_holder_dies(
    redis_client: Redis,
    daraja_mock: respx.MockRouter,
    token_route: respx.Route,
    make_config: Callable[..., DarajaConfig],
) -> None:
    async with DarajaClient(make_config(token_lock_timeout_s=1), redis=redis_client) as daraja:
        # A process that took the lock and died: its lock expires by itself.
        await redis_client.set(f"{TOKEN_KEY}:lock", "dead-process", px=30)
        assert await daraja.tokens.get() == "tok-1"
    assert token_route.call_count == 1
    assert await redis_client.exists(f"{TOKEN_KEY}:lock") == 0


async def test_a_waiter_gives_up_when_the_lock_is_never_released(
    redis_client: Redis,
    daraja_mock: respx.MockRouter,
    token_route: respx.Route,
    make_config: Callable[..., DarajaConfig],
) -> None:
    async with DarajaClient(make_config(token_lock_timeout_s=0.05), redis=redis_client) as daraja:
        await redis_client.set(f"{TOKEN_KEY}:lock", "stuck", px=60_000)
        with pytest.raises(DarajaUnavailable, match="another process"):
            await daraja.tokens.get()
    assert token_route.call_count == 0


async def test_an_oauth_answer_slower_than_the_lock_is_cut_off(
    redis_client: Redis, daraja_mock: respx.MockRouter, make_config: Callable[..., DarajaConfig]
) -> None:
    _, started, _ = gated_token_route(daraja_mock, "never")
    async with DarajaClient(make_config(token_lock_timeout_s=0.05), redis=redis_client) as daraja:
        with pytest.raises(DarajaUnavailable, match="lock expired"):
            await daraja.tokens.get()
    assert started.is_set()
    assert await redis_client.exists(f"{TOKEN_KEY}:lock", TOKEN_KEY) == 0


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (
            400,
            {
                "requestId": "11259-2330641-1",
                "errorCode": "400.008.02",
                "errorMessage": "Invalid grant type passed",
            },
            "400.008.02",
        ),
        (
            400,
            {
                "requestId": "r",
                "errorCode": "400.008.01",
                "errorMessage": "Invalid Authentication passed",
            },
            "400.008.01",
        ),
        (400, None, None),
    ],
)
async def test_oauth_refusals_are_auth_errors_shared_by_concurrent_callers(
    client: DarajaClient,
    redis_client: Redis,
    daraja_mock: respx.MockRouter,
    status: int,
    body: dict[str, str] | None,
    code: str | None,
) -> None:
    route = daraja_mock.get("/oauth/v1/generate").mock(
        return_value=httpx.Response(status, json=body) if body else httpx.Response(status)
    )
    results = await asyncio.gather(
        *(client.tokens.get() for _ in range(20)), return_exceptions=True
    )
    assert all(isinstance(r, DarajaAuthError) for r in results)
    error = results[0]
    assert isinstance(error, DarajaAuthError)
    assert error.error_code == code and error.http_status == status
    assert error.retryable is False
    assert route.call_count == 1
    assert await redis_client.exists(TOKEN_KEY, f"{TOKEN_KEY}:lock") == 0


async def test_oauth_outages_are_not_auth_errors(
    client: DarajaClient, daraja_mock: respx.MockRouter
) -> None:
    daraja_mock.get("/oauth/v1/generate").mock(
        side_effect=[
            httpx.Response(503, html="<html>Service Unavailable</html>"),
            httpx.Response(
                500,
                json={
                    "requestId": "r",
                    "errorCode": "500.003.02",
                    "errorMessage": "Error Occurred: Spike Arrest Violation",
                },
            ),
            httpx.Response(200, json={"access_token": "tok-1"}),
            httpx.ConnectError("refused"),
        ]
    )
    with pytest.raises(DarajaUnavailable):
        await client.tokens.get()
    with pytest.raises(DarajaRateLimited):
        await client.tokens.get()
    with pytest.raises(DarajaUnavailable, match="expires_in"):
        await client.tokens.get()
    with pytest.raises(DarajaUnavailable, match="ConnectError"):
        await client.tokens.get()


async def test_secrets_never_reach_the_logs(
    client: DarajaClient,
    daraja_mock: respx.MockRouter,
    token_route: respx.Route,
    log_lines: Callable[[], list[str]],
) -> None:
    daraja_mock.post("/mpesa/stkpush/v1/processrequest").respond(
        json={"MerchantRequestID": "m", "CheckoutRequestID": "ws_CO_1", "ResponseCode": "0"}
    )
    # The lines as the services write them (structlog's capture_logs misses loggers that an
    # earlier test's configuration already cached).
    log_lines()
    await client.stk_push(
        phone="254708374149",
        amount=1,
        account_reference="A",
        description="B",
        callback_url="https://x",
    )
    await client.tokens.invalidate("tok-1")
    logs = log_lines()
    rendered = "\n".join(logs)
    assert logs, "the calls were logged"
    for secret in ("tok-1", "cs-test", "bfb279f9aa9bdbcf", "MTc0Mzc5"):
        assert secret not in rendered


async def test_without_redis_nothing_reaches_daraja(
    config: DarajaConfig, daraja_mock: respx.MockRouter, token_route: respx.Route
) -> None:
    # Fetching a private token would invalidate every other process's: better to wait.
    dead: Redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    push = daraja_mock.post("/mpesa/stkpush/v1/processrequest")
    query = daraja_mock.post(QUERY)
    try:
        async with DarajaClient(config, redis=dead) as daraja:
            with pytest.raises(DarajaUnavailable, match="token cache") as raised:
                await daraja.stk_push(
                    phone="254708374149",
                    amount=1,
                    account_reference="A",
                    description="B",
                    callback_url="https://x",
                )
            with pytest.raises(DarajaUnavailable, match="rate limiter"):
                await daraja.stk_query("ws_CO_1")
    finally:
        await dead.aclose()
    assert raised.value.maybe_processed is False
    assert token_route.call_count == push.call_count == query.call_count == 0
