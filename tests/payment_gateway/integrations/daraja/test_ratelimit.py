import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from payment_gateway.integrations.daraja import DarajaRateLimited
from payment_gateway.integrations.daraja.ratelimit import RateLimiter

KEY = "daraja:ratelimit:query:test"


@pytest.fixture
async def second_redis(redis_url: str) -> AsyncIterator[Redis]:
    other: Redis = Redis.from_url(redis_url)
    yield other
    await other.aclose()


async def test_slots_are_spaced_one_interval_apart_across_processes(
    redis_client: Redis, second_redis: Redis
) -> None:
    limiters = [
        RateLimiter(redis=r, key=KEY, rate_per_second=10, max_wait_s=10)
        for r in (redis_client, second_redis)
    ]
    started = time.monotonic()
    reservations = [await limiters[i % 2].reserve() for i in range(6)]
    elapsed = time.monotonic() - started
    assert all(r.granted for r in reservations)
    for index, reservation in enumerate(reservations):
        # Slot i is i intervals after the first; the caller is told how far away it is now.
        assert index * 0.1 - elapsed - 0.001 <= reservation.wait_s <= index * 0.1 + 0.001


async def test_a_slot_too_far_away_is_refused_without_being_taken(redis_client: Redis) -> None:
    limiter = RateLimiter(redis=redis_client, key=KEY, rate_per_second=1, max_wait_s=0.5)
    first = await limiter.reserve()
    second = await limiter.reserve()
    third = await limiter.reserve()
    assert first.granted and first.wait_s == 0
    assert not second.granted and 0.9 < second.wait_s <= 1
    # The refused caller did not push the timeline further out.
    assert not third.granted and third.wait_s <= second.wait_s


async def test_acquire_waits_for_its_slot(redis_client: Redis) -> None:
    limiter = RateLimiter(redis=redis_client, key=KEY, rate_per_second=40, max_wait_s=1)
    started = time.monotonic()
    await asyncio.gather(*(limiter.acquire("stk_query") for _ in range(4)))
    # Four slots 25 ms apart: the last one starts at least 75 ms after the first.
    assert time.monotonic() - started >= 0.074


async def test_acquire_refuses_with_a_retry_hint(redis_client: Redis) -> None:
    limiter = RateLimiter(redis=redis_client, key=KEY, rate_per_second=2, max_wait_s=0)
    await limiter.acquire("stk_query")
    with pytest.raises(DarajaRateLimited) as raised:
        await limiter.acquire("stk_query")
    assert raised.value.kind == "local"
    assert raised.value.retryable is True
    assert 0.4 < raised.value.retry_after_s <= 0.5


async def test_the_timeline_expires_once_idle(redis_client: Redis) -> None:
    limiter = RateLimiter(redis=redis_client, key=KEY, rate_per_second=1, max_wait_s=5)
    await limiter.reserve()
    assert 0 < await redis_client.pttl(KEY) <= 2000
