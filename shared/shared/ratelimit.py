"""Rate limits shared by every process of a service through Redis, on the `limits` package's
moving window (a log of hits per key, trimmed atomically by a Lua script in Redis).

A limit is a setting written the way `limits` parses it: ``"10/minute"``, ``"5 per 10 minutes"``,
several joined with ``;`` (``"5/15 minutes;10/hour;20/day"``: every one must allow a hit). A key
is stored only as a hash, so Redis never holds an e-mail address or a phone number. Refusals are
:class:`TooManyRequests`: 429 with ``Retry-After`` and a sentence saying when to try again.

Redis being down never locks anyone out: the limiter lets the request through and logs it (the
rest of the request needs PostgreSQL, not Redis).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any

import structlog
from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from pydantic import AfterValidator
from redis.asyncio import Redis

from shared.errors import DomainError

log = structlog.get_logger(__name__)


class TooManyRequests(DomainError):
    """Too many requests of this kind; try again after `Retry-After` seconds."""

    status_code = 429


@lru_cache(maxsize=256)
def parse_limits(spec: str) -> tuple[RateLimitItem, ...]:
    """``"5/10 minutes;20/day"`` as `limits` items; ValueError naming the accepted form."""
    try:
        items = tuple(parse_many(spec))
    except ValueError as e:
        raise ValueError(
            f"{spec!r} is not a rate limit: write '<count>/<period>' or '<count> per <n> "
            "<unit>s' (units: second, minute, hour, day), several joined with ';'"
        ) from e
    if not items:
        raise ValueError("a rate limit needs at least one '<count>/<period>'")
    return items


def _check_spec(spec: str) -> str:
    parse_limits(spec)
    return spec


# A settings field holding a rate limit: checked when the settings load, so a typo fails fast.
RateLimitSpec = Annotated[str, AfterValidator(_check_spec)]


@dataclass(frozen=True)
class Rule:
    """One limit: its name (part of the Redis key), its windows, and what it counts, in the
    words a refusal uses ("login attempts from this address")."""

    name: str
    spec: str
    counts: str

    @property
    def items(self) -> tuple[RateLimitItem, ...]:
        return parse_limits(self.spec)


def hashed(identifier: str) -> str:
    # Not a secret hash: it only keeps personal data (e-mail, phone, address) out of Redis.
    return hashlib.sha256(identifier.encode()).hexdigest()[:32]


def retry_message(counts: str, retry_after_s: int, *, now: float | None = None) -> str:
    at = datetime.fromtimestamp((now or time.time()) + retry_after_s, UTC)
    return (
        f"too many {counts}; try again in {retry_after_s} seconds "
        f"(after {at.strftime('%H:%M:%S')} UTC)"
    )


class RateLimiter:
    """Every process of a service builds one on its Redis client; `prefix` keeps deployments
    that share a Redis apart. `enabled=False` lets everything through (benchmarks)."""

    def __init__(self, redis: Redis, *, prefix: str, enabled: bool = True) -> None:
        self.enabled = enabled
        # The service's own connection pool: no second set of connections to Redis.
        pool: dict[str, Any] = {"connection_pool": redis.connection_pool}
        self._storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=prefix,
            wrap_exceptions=True,
            **pool,
        )
        self._strategy = MovingWindowRateLimiter(self._storage)

    async def hit(self, rule: Rule, identifier: str) -> None:
        """Count one request; TooManyRequests if any of the rule's windows is full (the request
        is then not counted in the windows that refused it)."""
        if not self.enabled:
            return
        key = hashed(identifier)
        try:
            refused = [item for item in rule.items if not await self._strategy.hit(item, key)]
            if refused:
                raise await self._refusal(rule, key, refused)
        except StorageError:
            log.warning("rate_limit_unavailable", rule=rule.name, exc_info=True)

    async def check(self, rule: Rule, identifier: str) -> None:
        """TooManyRequests if a window of the rule is full, without counting this request (a
        lockout that only failures fill)."""
        if not self.enabled:
            return
        key = hashed(identifier)
        try:
            refused = [item for item in rule.items if not await self._strategy.test(item, key)]
            if refused:
                raise await self._refusal(rule, key, refused)
        except StorageError:
            log.warning("rate_limit_unavailable", rule=rule.name, exc_info=True)

    async def retry_after_s(self, rule: Rule, identifier: str) -> int:
        """Seconds until the rule allows a request for `identifier` again (0: it does now)."""
        key = hashed(identifier)
        waits = [
            await self._wait_s(item, key)
            for item in rule.items
            if not await self._strategy.test(item, key)
        ]
        return max(waits, default=0)

    async def clear(self, rule: Rule, identifier: str) -> None:
        key = hashed(identifier)
        try:
            for item in rule.items:
                await self._strategy.clear(item, key)
        except StorageError:
            log.warning("rate_limit_unavailable", rule=rule.name, exc_info=True)

    async def _wait_s(self, item: RateLimitItem, key: str) -> int:
        stats = await self._strategy.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _refusal(self, rule: Rule, key: str, refused: list[RateLimitItem]) -> TooManyRequests:
        retry_after = max([await self._wait_s(item, key) for item in refused])
        log.info("rate_limited", rule=rule.name, retry_after_s=retry_after)
        return TooManyRequests(
            retry_message(rule.counts, retry_after), headers={"Retry-After": str(retry_after)}
        )


def limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def client_address(request: Request, *, trusted_hops: int) -> str:
    """Who called: with `trusted_hops` proxies in front, each appending the address it saw to
    `X-Forwarded-For`, the entry that many places from the right (entries further left were
    written by the client and prove nothing)."""
    peer = request.client.host if request.client else "unknown"
    if trusted_hops == 0:
        return peer
    hops = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
    hops = [hop for hop in hops if hop]
    return hops[-trusted_hops] if len(hops) >= trusted_hops else peer
