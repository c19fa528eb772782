"""A rate limiter shared by every process through Redis, so the calls of all pollers together
stay under Daraja's spike arrest.

Each call reserves the next free slot on one timeline kept in Redis (the theoretical arrival
time of GCRA with no burst): slots are ``1/rate`` apart and the caller sleeps until its own. The
clock is Redis's, so process clocks may disagree.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from payment_gateway.integrations.daraja.errors import DarajaRateLimited, DarajaUnavailable
from payment_gateway.integrations.daraja.metrics import DARAJA_RATE_LIMIT_WAIT

# Microseconds are written with string.format: Redis would render a bare Lua number with 14
# significant digits and lose precision.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(tat, now)
local wait = slot - now
if wait > max_wait then
    return {0, string.format('%.0f', wait)}
end
local next_free = slot + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_free),
           'PX', math.floor((next_free - now) / 1000) + 1000)
return {1, string.format('%.0f', wait)}
"""


@dataclass(frozen=True)
class Reservation:
    granted: bool
    wait_s: float


class RateLimiter:
    def __init__(self, *, redis: Redis, key: str, rate_per_second: float, max_wait_s: float):
        self.key = key
        self._interval_us = max(1, round(1_000_000 / rate_per_second))
        self._max_wait_us = round(max_wait_s * 1_000_000)
        self._reserve = redis.register_script(_RESERVE)

    async def reserve(self) -> Reservation:
        """Take the next slot if it is at most ``max_wait_s`` away; say how long to wait."""
        try:
            granted, wait_us = await self._reserve(
                keys=[self.key], args=[self._interval_us, self._max_wait_us]
            )
        except RedisError as e:
            raise DarajaUnavailable(
                f"the shared Daraja rate limiter is unavailable: {type(e).__name__}",
                maybe_processed=False,
            ) from e
        return Reservation(granted=bool(int(granted)), wait_s=int(wait_us) / 1_000_000)

    async def acquire(self, operation: str) -> None:
        """Wait for a slot, or raise ``DarajaRateLimited`` (kind ``local``) when the queue of
        reserved slots is longer than ``max_wait_s``."""
        reservation = await self.reserve()
        if not reservation.granted:
            raise DarajaRateLimited(
                f"{operation} refused by the shared Daraja rate limiter: next slot in "
                f"{reservation.wait_s:.2f}s",
                retry_after_s=reservation.wait_s,
                kind="local",
            )
        DARAJA_RATE_LIMIT_WAIT.labels(operation).observe(reservation.wait_s)
        if reservation.wait_s > 0:
            await asyncio.sleep(reservation.wait_s)
