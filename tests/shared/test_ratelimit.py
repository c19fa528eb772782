import calendar
import uuid
from collections.abc import AsyncIterator

import pytest
from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from shared.ratelimit import (
    RateLimiter,
    RateLimitSpec,
    Rule,
    TooManyRequests,
    hashed,
    parse_limits,
    retry_message,
)
from shared.testing.waiting import wait_until


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def limiter(redis: Redis, prefix: str) -> RateLimiter:
    return RateLimiter(redis, prefix=prefix)


def fresh_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


class TestSpec:
    def test_several_windows_parse(self) -> None:
        items = parse_limits("5/15 minutes;10/hour")

        assert [(item.amount, item.get_expiry()) for item in items] == [(5, 900), (10, 3600)]

    def test_a_setting_with_a_typo_fails_when_settings_load(self) -> None:
        class Settings(BaseModel):
            LIMIT: RateLimitSpec

        with pytest.raises(ValidationError, match="<count>/<period>"):
            Settings(LIMIT="five a minute")


class TestLimiter:
    async def test_refuses_at_the_threshold_with_retry_after(self, redis: Redis) -> None:
        rule = Rule("login-ip", "3/minute", "login attempts from this address")
        limits = limiter(redis, fresh_prefix())
        for _ in range(3):
            await limits.hit(rule, "10.0.0.1")

        with pytest.raises(TooManyRequests) as refused:
            await limits.hit(rule, "10.0.0.1")

        assert refused.value.status_code == 429
        retry_after = int((refused.value.headers or {})["Retry-After"])
        assert 1 <= retry_after <= 60
        assert refused.value.message.startswith(
            f"too many login attempts from this address; try again in {retry_after} seconds"
        )
        # Another key has its own window.
        await limits.hit(rule, "10.0.0.2")

    async def test_two_limiters_on_one_redis_share_the_count(self, redis_url: str) -> None:
        # Two API processes: each its own Redis connection, one shared count.
        prefix = fresh_prefix()
        rule = Rule("payment-phone", "2/minute", "M-Pesa prompts to this phone")
        first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
        try:
            await limiter(first, prefix).hit(rule, "254712345678")
            await limiter(second, prefix).hit(rule, "254712345678")

            with pytest.raises(TooManyRequests):
                await limiter(first, prefix).hit(rule, "254712345678")
        finally:
            await first.aclose()
            await second.aclose()

    async def test_the_window_reopens_when_its_reset_time_passes(self, redis: Redis) -> None:
        rule = Rule("tiny", "2/second", "tries")
        limits = limiter(redis, fresh_prefix())
        await limits.hit(rule, "k")
        await limits.hit(rule, "k")
        with pytest.raises(TooManyRequests):
            await limits.hit(rule, "k")

        async def reopened() -> bool:
            return await limits.retry_after_s(rule, "k") == 0

        await wait_until(reopened, within=5, what="the one-second window to empty")
        await limits.hit(rule, "k")

    async def test_check_does_not_count(self, redis: Redis) -> None:
        rule = Rule("lockout", "1/minute", "failures")
        limits = limiter(redis, fresh_prefix())
        for _ in range(3):
            await limits.check(rule, "someone@example.com")

        await limits.hit(rule, "someone@example.com")

        with pytest.raises(TooManyRequests):
            await limits.check(rule, "someone@example.com")

    async def test_clear_forgets_the_hits(self, redis: Redis) -> None:
        rule = Rule("lockout", "1/minute", "failures")
        limits = limiter(redis, fresh_prefix())
        await limits.hit(rule, "a")

        await limits.clear(rule, "a")

        await limits.hit(rule, "a")

    async def test_redis_keeps_only_hashes_of_the_keys(self, redis: Redis) -> None:
        prefix = fresh_prefix()
        await limiter(redis, prefix).hit(Rule("r", "5/minute", "x"), "amina@example.com")

        keys = [key.decode() async for key in redis.scan_iter(match=f"{prefix}*")]

        assert keys
        assert all("amina" not in key and hashed("amina@example.com") in key for key in keys)

    async def test_a_disabled_limiter_lets_everything_through(self, redis: Redis) -> None:
        rule = Rule("r", "1/minute", "x")
        limits = RateLimiter(redis, prefix=fresh_prefix(), enabled=False)

        for _ in range(3):
            await limits.hit(rule, "k")

    async def test_an_unreachable_redis_locks_nobody_out(self) -> None:
        unreachable = Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)
        rule = Rule("r", "1/minute", "x")
        try:
            limits = limiter(unreachable, fresh_prefix())
            await limits.hit(rule, "k")
            await limits.hit(rule, "k")
        finally:
            await unreachable.aclose()


def test_the_message_says_when() -> None:
    now = calendar.timegm((2026, 12, 1, 15, 0, 0))

    assert retry_message("sign-ups from this address", 90, now=now) == (
        "too many sign-ups from this address; try again in 90 seconds (after 15:01:30 UTC)"
    )
