import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.worker import (
    backoff_seconds,
    discard_pending_jobs,
    enqueue_after_commit,
    flush_pending_jobs,
)


class TestBackoffSeconds:
    @given(
        attempt=st.integers(min_value=1, max_value=200),
        base=st.floats(min_value=0.01, max_value=60),
        cap=st.floats(min_value=1, max_value=86_400),
        seed=st.integers(),
    )
    def test_stays_within_the_jittered_exponential_window(
        self, attempt: int, base: float, cap: float, seed: int
    ) -> None:
        ceiling = min(cap, base * 2 ** (attempt - 1))
        delay = backoff_seconds(attempt, base_s=base, cap_s=cap, rng=random.Random(seed))
        assert ceiling / 10 <= delay <= ceiling

    def test_grows_with_the_attempt(self) -> None:
        rng = random.Random(7)
        early = [backoff_seconds(1, base_s=1, rng=rng) for _ in range(50)]
        late = [backoff_seconds(8, base_s=1, rng=rng) for _ in range(50)]
        assert max(early) <= 1 < min(late)

    def test_refuses_attempt_zero(self) -> None:
        with pytest.raises(ValueError, match="attempt counts from 1"):
            backoff_seconds(0)


class TestEnqueueAfterCommit:
    async def test_jobs_reach_redis_only_when_flushed(
        self, db_session: AsyncSession, redis_client: Redis
    ) -> None:
        from arq.connections import ArqRedis

        arq = ArqRedis(connection_pool=redis_client.connection_pool, default_queue_name="q:test")
        enqueue_after_commit(db_session, "worker.ping", _job_id="ping:1")
        assert await redis_client.zcard("q:test") == 0
        assert await flush_pending_jobs(db_session, arq) == 1
        assert await redis_client.zcard("q:test") == 1
        assert await flush_pending_jobs(db_session, arq) == 0

    async def test_discarded_jobs_never_reach_redis(
        self, db_session: AsyncSession, redis_client: Redis
    ) -> None:
        from arq.connections import ArqRedis

        arq = ArqRedis(connection_pool=redis_client.connection_pool, default_queue_name="q:test")
        enqueue_after_commit(db_session, "worker.ping")
        discard_pending_jobs(db_session)
        assert await flush_pending_jobs(db_session, arq) == 0
        assert await redis_client.zcard("q:test") == 0
