"""Staff console stats: `GET /v1/console/stats` (behind session-api's `/v1/admin/stats`) over
1,000,000 payments must answer in under 300 ms (issue 12, acceptance 4).

Bulk-inserts `BENCH_CONSOLE_PAYMENTS` payments (default 1,000,000) spread over 30 days with
generate_series (statuses, reasons, amounts and prompt-to-payment times of a busy merchant),
VACUUM ANALYZEs them as autovacuum would, then times, in this process on real PostgreSQL, the
service function the endpoint calls (in its unit of work) for the whole 30-day window by day and
by hour (the median of `BENCH_CONSOLE_REPEATS` runs), beside a reference: a plain
`SELECT count(*)` over the same table. The first call ever builds the hourly rollups from every
payment; it is timed and printed on its own. Printed: the times, the ratio to the reference, and
whether the 300 ms target holds.

Needs DATABASE_URL (`make bench` sets it); works in a scratch database `<name>_console_bench`.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from bench.services import base_urls, use_uvloop
from payment_gateway.console import service
from payment_gateway.console.schemas import Granularity
from shared import db
from shared.testing.database import scratch_database

PAYMENTS = int(os.environ.get("BENCH_CONSOLE_PAYMENTS", "1000000"))
REPEATS = int(os.environ.get("BENCH_CONSOLE_REPEATS", "5"))
TARGET_MS = 300.0
START = datetime(2001, 3, 1, tzinfo=UTC)
DAYS = 30

# One payment every 30 days / PAYMENTS; 70% completed (2% of them late), the rest spread over
# the failures a real merchant sees; a few held for review and a few still open.
_FILL = text(
    """
    INSERT INTO gateway.payment (id, status, amount, phone, account_reference, description,
        environment, customer_message, created_by, reason, review_reason, result_code,
        created_at, updated_at, pushed_at, settled_at)
    SELECT gen_random_uuid(), s.status, 10 + (n * 37) % 25000,
           '2547' || lpad((n % 100000000)::text, 8, '0'), 'BENCH', 'bench', 'production', '',
           'bench',
           CASE WHEN s.status = 'completed' AND n % 50 = 0 THEN 'late_success'
                WHEN s.status = 'failed' THEN (ARRAY['insufficient_funds', 'wrong_pin',
                    'system_busy', 'unknown_result'])[1 + n % 4]
                WHEN s.status = 'cancelled' THEN 'customer_cancelled'
                WHEN s.status = 'timeout' THEN (ARRAY['prompt_expired', 'phone_unreachable',
                    'no_response'])[1 + n % 3] END,
           CASE WHEN n % 5000 = 0 THEN 'amount_mismatch' END,
           CASE WHEN s.status = 'completed' THEN '0' END,
           s.at, s.at, s.at,
           CASE WHEN s.status NOT IN ('pending', 'sent')
                THEN s.at + make_interval(secs => 5 + (n * 7919) % 90) END
    FROM generate_series(1::bigint, :rows) AS n,
    LATERAL (SELECT
        CAST(:start AS timestamptz) + (n::float8 / :rows) * interval '30 days' AS at,
        CASE WHEN n % 100 < 70 THEN 'completed'
             WHEN n % 100 < 82 THEN 'failed'
             WHEN n % 100 < 92 THEN 'cancelled'
             WHEN n % 100 < 99 THEN 'timeout'
             WHEN n % 2 = 0 THEN 'sent' ELSE 'pending' END AS status
    ) AS s
    """
)


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    await call()  # warm-up: the plan and the pages cached, as on a live server
    runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await call()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


async def run() -> None:
    database_url, _ = base_urls()
    async with scratch_database(database_url, "_console_bench") as url:
        engine = db.create_engine(url, pool_size=2, max_overflow=0)
        started = time.perf_counter()
        async with engine.begin() as connection:
            await connection.execute(_FILL, {"rows": PAYMENTS, "start": START})
        filled_s = time.perf_counter() - started
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE gateway.payment"))
        print(f"payments: {PAYMENTS:,} over {DAYS} days, inserted in {filled_s:.1f} s")
        sessionmaker = db.create_sessionmaker(engine)
        window = {"window_from": START, "window_to": START + timedelta(days=DAYS)}

        async def stats(granularity: Granularity) -> Callable[[], Awaitable[Any]]:
            async def call() -> Any:
                # The endpoint's unit of work: what the refresh recounted is committed.
                async with sessionmaker() as session, db.unit_of_work(session, None):
                    return await service.stats(
                        session,
                        granularity=granularity,
                        max_days=366,
                        refresh_overlap=timedelta(seconds=120),
                        **window,
                    )

            return call

        async def count() -> Any:
            async with sessionmaker() as session:
                return await session.scalar(text("SELECT count(*) FROM gateway.payment"))

        reference_ms = await timed(count)
        started = time.perf_counter()
        await (await stats(Granularity.day))()
        cold_ms = (time.perf_counter() - started) * 1000
        by_day_ms = await timed(await stats(Granularity.day))
        by_hour_ms = await timed(await stats(Granularity.hour))
        sample = await (await stats(Granularity.day))()
        await engine.dispose()
    print(f"  reference, SELECT count(*) over the table: {reference_ms:.0f} ms")
    print(f"  first stats ever (builds every hourly rollup): {cold_ms:.0f} ms")
    for name, ms in (("by day", by_day_ms), ("by hour", by_hour_ms)):
        verdict = "ok" if ms < TARGET_MS else f"OVER the {TARGET_MS:.0f} ms target"
        print(
            f"  stats, 30 days {name}: {ms:.0f} ms (median of {REPEATS}), "
            f"{ms / reference_ms:.1f}x the reference, {verdict}"
        )
    print(
        f"  checked: {sample.total_count:,} payments, success rate {sample.success_rate}, "
        f"median {sample.median_seconds_to_pay} s, p95 {sample.p95_seconds_to_pay} s, "
        f"{len(sample.buckets)} buckets"
    )


def main() -> None:
    use_uvloop()
    asyncio.run(run())
