"""Initiation: how many STK Push payments one gateway API process starts per second against the
Daraja simulator (both uvicorn subprocesses, real PostgreSQL and Redis).

Each request is a whole `POST /v1/payments`: claim the Idempotency-Key, commit the `pending`
payment, push to the simulator (OAuth token shared through Redis), commit `sent` with its
outbox event, answer. The simulated customers pay and their callbacks come back to the same
process while the load runs, as they would. Printed: requests per second and p50/p99 latency
at 16 concurrent, and how many payments reached `sent`.

Needs DATABASE_URL and REDIS_URL (`make bench` sets them); uses its own scratch database and
Redis namespace, removed at the end.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

import asyncpg

from bench.loadgen import Result, load
from bench.services import (
    ROOT,
    base_urls,
    drop_redis_namespace,
    gateway_env,
    plain,
    use_uvloop,
)
from shared.testing.database import scratch_database
from shared.testing.processes import free_port, url_of, uvicorn_process

CONCURRENCY = 16
WARMUP = 100
MEASURED = 1500
API_KEY = "bench-service-key"


def requests(count: int, *, start: int) -> list[tuple[str, bytes, dict[str, str]]]:
    return [
        (
            "/v1/payments",
            json.dumps(
                {
                    "amount": 100 + i % 500,
                    # The simulator's plain "pays" behaviour: last three digits 100..999.
                    "phone": f"07{i:05d}{100 + i % 800:03d}",
                    "account_reference": f"BENCH-{i}"[:12],
                    "description": "Bench",
                    "metadata": {"bench": i},
                }
            ).encode(),
            {"authorization": f"Bearer {API_KEY}", "idempotency-key": f"bench-{uuid.uuid4()}"},
        )
        for i in range(start, start + count)
    ]


def _created(status: int) -> bool:
    return status == 201


async def measure(gateway_url: str) -> Result:
    accept = _created
    await load(
        "warm-up", gateway_url, requests(WARMUP, start=0), concurrency=CONCURRENCY, accept=accept
    )
    return await load(
        "payment-gateway",
        gateway_url,
        requests(MEASURED, start=WARMUP),
        concurrency=CONCURRENCY,
        accept=accept,
    )


async def count_started(url: str) -> tuple[int, int]:
    """How many payments left `pending`, of how many."""
    connection = await asyncpg.connect(plain(url))
    try:
        reached = await connection.fetchval(
            "SELECT count(*) FROM gateway.payment WHERE status <> 'pending'"
        )
        total = await connection.fetchval("SELECT count(*) FROM gateway.payment")
    finally:
        await connection.close()
    return int(reached), int(total)


async def run() -> tuple[Result, int, int]:
    database_url, redis_url = base_urls()
    namespace = f"bench_{uuid.uuid4().hex[:8]}"
    simulator_env = {
        "SIMULATOR_TIME_SCALE": "0.05",
        "LOG_LEVEL": "WARNING",
        "ENVIRONMENT": "development",
    }
    async with scratch_database(database_url, "_gateway_bench_init") as url:
        try:
            with uvicorn_process("daraja_simulator.main:build", simulator_env, cwd=ROOT) as sim:
                port = free_port()
                env = gateway_env(
                    url,
                    redis_url,
                    namespace,
                    API_KEYS=API_KEY,
                    DARAJA_BASE_URL=sim,
                    PUBLIC_BASE_URL=url_of(port),
                    # The simulator is one Python process too; let polling stay out of the way.
                    DARAJA_QUERY_RATE_PER_SECOND=1000,
                )
                gateway = uvicorn_process("payment_gateway.main:build", env, port=port, cwd=ROOT)
                with gateway as gateway_url:
                    result = await measure(gateway_url)
            reached, total = await count_started(url)
        finally:
            await drop_redis_namespace(redis_url, namespace)
    return result, reached, total


def main() -> None:
    use_uvloop()
    result, reached, total = asyncio.run(run())
    print(f"initiation against the simulator: one API process, {CONCURRENCY} concurrent")
    print("  " + result.line())
    print(f"  {reached} of {total} payments reached `sent` (or settled) before the answer")
    if result.failures or reached != total:
        sys.exit("some payments were not started")


if __name__ == "__main__":
    main()
