"""The OAuth token every gateway process shares through Redis.

Daraja invalidates the previous token whenever it issues a new one, so per-process caches make
replicas knock each other's tokens out. One token per app lives in Redis with a TTL that ends
``refresh_margin_s`` before Daraja's expiry; when it is missing exactly one process fetches a new
one, under a Redis lock (``SET NX PX`` with a random value, released only by its holder), while
the others poll the cache. Inside a process, concurrent callers share one in-flight fetch.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from payment_gateway.integrations.daraja.errors import DarajaUnavailable
from payment_gateway.integrations.daraja.metrics import DARAJA_TOKEN_INVALIDATIONS

log = structlog.get_logger("payment_gateway.daraja.token")

# Delete the key only while it still holds the value we know: releasing a lock that expired and
# was taken by another process, or dropping a token another process has just replaced, would
# break single flight.
_COMPARE_AND_DELETE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def app_key(environment: str, consumer_key: str) -> str:
    """Names one Daraja app in Redis keys: its environment and a digest of its consumer key. One
    token per credential, without the credential showing in a key name (``KEYS``, ``MONITOR``,
    the ``daraja_token_*`` log lines)."""
    digest = hashlib.sha256(consumer_key.encode()).hexdigest()[:16]
    return f"{environment}:{digest}"


@dataclass(frozen=True)
class FetchedToken:
    access_token: str
    expires_in_s: float


class TokenCache:
    """Hands out the shared access token, fetching it single-flight when it is missing."""

    def __init__(
        self,
        *,
        redis: Redis,
        key: str,
        fetch: Callable[[], Awaitable[FetchedToken]],
        refresh_margin_s: float,
        lock_timeout_s: float,
        poll_interval_s: float,
    ) -> None:
        self._redis = redis
        self.key = key
        self.lock_key = f"{key}:lock"
        self._fetch = fetch
        self._refresh_margin_s = refresh_margin_s
        self._lock_timeout_s = lock_timeout_s
        self._poll_interval_s = poll_interval_s
        self._compare_and_delete = redis.register_script(_COMPARE_AND_DELETE)
        self._inflight: asyncio.Task[str] | None = None

    async def get(self) -> str:
        """A token valid for at least the refresh margin."""
        try:
            token = await self.cached()
            if token is not None:
                return token
            if self._inflight is None or self._inflight.done():
                self._inflight = asyncio.create_task(self._fetch_shared())
                # A fetch whose callers were all cancelled still ends; its error must not be
                # reported as never retrieved.
                self._inflight.add_done_callback(_retrieve_exception)
            return await asyncio.shield(self._inflight)
        except RedisError as e:
            raise _cache_down(e) from e

    async def cached(self) -> str | None:
        return _decode(await self._redis.get(self.key))

    async def invalidate(self, token: str) -> bool:
        """Drop ``token`` from the cache if it is still the cached one (another process may
        already have replaced it). Returns whether it was dropped."""
        try:
            dropped = bool(await self._compare_and_delete(keys=[self.key], args=[token]))
        except RedisError as e:
            raise _cache_down(e) from e
        if dropped:
            DARAJA_TOKEN_INVALIDATIONS.inc()
            log.info("daraja_token_invalidated", key=self.key)
        return dropped

    async def _fetch_shared(self) -> str:
        loop = asyncio.get_running_loop()
        # Past the holder's lock TTL a waiter takes the lock itself, so waiting twice the TTL
        # covers a holder that died mid-fetch.
        deadline = loop.time() + 2 * self._lock_timeout_s
        while True:
            holder = secrets.token_hex(16)
            acquired = await self._redis.set(
                self.lock_key, holder, nx=True, px=max(1, int(self._lock_timeout_s * 1000))
            )
            if acquired:
                try:
                    return await self._fetch_and_store()
                finally:
                    await self._compare_and_delete(keys=[self.lock_key], args=[holder])
            token = await self._wait_for_other_fetcher(deadline)
            if token is not None:
                return token

    async def _fetch_and_store(self) -> str:
        # Someone may have stored a token between our cache miss and taking the lock.
        token = await self.cached()
        if token is not None:
            return token
        try:
            async with asyncio.timeout(self._lock_timeout_s * 0.9):
                fetched = await self._fetch()
        except TimeoutError as e:
            raise DarajaUnavailable(
                "Daraja OAuth did not answer before the token lock expired",
                maybe_processed=False,
            ) from e
        await self.store(fetched)
        return fetched.access_token

    async def store(self, fetched: FetchedToken) -> None:
        """Share ``fetched`` as the app's token (it replaced any other at Daraja)."""
        ttl_s = fetched.expires_in_s - self._refresh_margin_s
        if ttl_s < fetched.expires_in_s / 2:
            # A lifetime shorter than twice the margin (never seen from Daraja): refresh halfway.
            ttl_s = fetched.expires_in_s / 2
        try:
            await self._redis.set(self.key, fetched.access_token, px=max(1, int(ttl_s * 1000)))
        except RedisError as e:
            raise _cache_down(e) from e
        log.info("daraja_token_stored", key=self.key, ttl_s=round(ttl_s, 3))

    async def _wait_for_other_fetcher(self, deadline: float) -> str | None:
        """The token once another process stored it, or None once its lock is gone without one
        (it failed or died: the caller then tries to take the lock)."""
        loop = asyncio.get_running_loop()
        while True:
            if loop.time() >= deadline:
                raise DarajaUnavailable(
                    "timed out waiting for another process to fetch the Daraja token",
                    maybe_processed=False,
                )
            await asyncio.sleep(self._poll_interval_s)
            token, lock = await self._redis.mget([self.key, self.lock_key])
            if token is not None:
                return _decode(token)
            if lock is None:
                return None


def _cache_down(error: RedisError) -> DarajaUnavailable:
    # Without the shared cache a process must not fetch on its own: its token would invalidate
    # every other process's. The call waits for Redis like it would for Daraja.
    return DarajaUnavailable(
        f"the shared Daraja token cache is unavailable: {type(error).__name__}",
        maybe_processed=False,
    )


def _decode(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


def _retrieve_exception(task: asyncio.Task[str]) -> None:
    if not task.cancelled():
        task.exception()
