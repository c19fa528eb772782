import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import db
from shared.jobs import enqueue_after_commit
from shared.settings import BaseServiceSettings
from shared.worker import backoff_seconds, worker_redis_settings


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


class TestUnitOfWork:
    """Jobs a unit of work queues reach Redis only after its commit, never after a rollback."""

    async def test_jobs_reach_redis_only_when_it_commits(
        self, db_session: AsyncSession, redis_client: Redis
    ) -> None:
        from arq.connections import ArqRedis

        arq = ArqRedis(connection_pool=redis_client.connection_pool, default_queue_name="q:test")
        async with db.unit_of_work(db_session, arq):
            enqueue_after_commit(db_session, "worker.ping", _job_id="ping:1")
            assert await redis_client.zcard("q:test") == 0
        assert await redis_client.zcard("q:test") == 1

    async def test_commit_then_call_out_sends_the_jobs_queued_so_far(
        self, db_session: AsyncSession, redis_client: Redis
    ) -> None:
        from arq.connections import ArqRedis

        arq = ArqRedis(connection_pool=redis_client.connection_pool, default_queue_name="q:test")
        async with db.unit_of_work(db_session, arq):
            enqueue_after_commit(db_session, "worker.ping", _job_id="ping:1")
            await db.commit(db_session)
            assert await redis_client.zcard("q:test") == 1
            enqueue_after_commit(db_session, "worker.ping", _job_id="ping:2")
        assert await redis_client.zcard("q:test") == 2

    async def test_a_rolled_back_unit_sends_nothing(
        self, db_session: AsyncSession, redis_client: Redis
    ) -> None:
        from arq.connections import ArqRedis

        arq = ArqRedis(connection_pool=redis_client.connection_pool, default_queue_name="q:test")
        with pytest.raises(RuntimeError, match="boom"):
            async with db.unit_of_work(db_session, arq):
                enqueue_after_commit(db_session, "worker.ping")
                raise RuntimeError("boom")
        async with db.unit_of_work(db_session, arq):
            pass
        assert await redis_client.zcard("q:test") == 0


class TestWorkerRedis:
    def test_a_slow_or_dropped_connection_is_retried_before_the_worker_gives_up(self) -> None:
        class Demo(BaseServiceSettings):
            pass

        settings = Demo(REDIS_URL="redis://127.0.0.1:6399/3", WORKER_REDIS_RETRIES=4)
        redis = worker_redis_settings(settings)

        assert (redis.port, redis.database) == (6399, 3)
        assert redis.conn_timeout == 5  # arq's own 1 s failed under a loaded machine
        assert redis.retry_on_timeout is True
        assert redis.retry is not None
        assert redis.retry._retries == 4  # redis-py offers no getter
        assert set(redis.retry_on_error or []) == {RedisConnectionError, RedisTimeoutError}
