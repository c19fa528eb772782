"""Staff console CSV export: `GET /v1/admin/payments/export.csv` streams `BENCH_EXPORT_ROWS`
payment attempts (default 100,000) without holding them in memory (issue 12, acceptance 1).

Bulk-inserts the attempts (one client, one order) with generate_series, then in this process on
real PostgreSQL runs the export as the endpoint does (a server-side cursor, one batch of
`CONSOLE_EXPORT_BATCH_SIZE` rows at a time, each batch's facts asked of a stand-in gateway over
an in-process transport) and throws the text away as a socket would. Printed: rows and MB
written, the time, and the process's resident memory before and at its peak; then, as a
reference, the peak after loading the same rows all at once into a list.

Needs DATABASE_URL (`make bench` sets it); works in a scratch database `<name>_export_bench`.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
import uuid

import httpx
from sqlalchemy import text

from bench.services import base_urls, use_uvloop
from session_api.console import service
from session_api.console.repository import AttemptFilters, ConsoleRepository
from session_api.console.schemas import PaymentSort
from session_api.integrations.gateway import GatewayClient
from session_api.models import User
from shared import db
from shared.testing.database import scratch_database

ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))
BATCH = 1000

_USER = text(
    """
    INSERT INTO sessions.user_account (id, email, password_hash, full_name, role)
    VALUES (:id, 'bulk@example.com', 'x', 'Bulk, "Buyer"', 'client')
    """
)
_ORDER = text(
    """
    INSERT INTO sessions.customer_order (id, user_id, status, subtotal, delivery_fee, total,
        delivery, customer)
    VALUES (:id, :user_id, 'paid', 100, 0, 100, '{}', '{}')
    """
)
_ATTEMPTS = text(
    """
    INSERT INTO sessions.payment_attempt (id, user_id, payable_type, payable_id,
        attempt_number, idempotency_key, gateway_payment_id, amount, phone_masked, status,
        gateway_status, customer_message, receipt_number, environment, created_at, updated_at)
    SELECT gen_random_uuid(), :user_id, 'order', :order_id, n, 'bench:' || n,
           gen_random_uuid()::text, 100 + n % 5000, '254*****' || lpad((n % 10000)::text, 4, '0'),
           'paid', 'completed', '', 'BN' || lpad(n::text, 8, '0'), 'production',
           now() - n * interval '1 second', now()
    FROM generate_series(1, :rows) AS n
    """
)


def facts(request: httpx.Request) -> httpx.Response:
    ids = json.loads(request.content)["ids"]
    return httpx.Response(
        200,
        json=[
            {"id": i, "status": "completed", "environment": "production", "verdict": "matched"}
            for i in ids
        ],
    )


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run() -> None:
    database_url, _ = base_urls()
    gateway = GatewayClient(
        base_url="http://gateway.bench",
        api_key="bench",
        timeout_s=10,
        connect_timeout_s=1,
        transport=httpx.MockTransport(facts),
    )
    async with scratch_database(database_url, "_export_bench") as url:
        engine = db.create_engine(url, pool_size=2, max_overflow=0)
        user_id, order_id = uuid.uuid4(), uuid.uuid4()
        async with engine.begin() as connection:
            await connection.execute(_USER, {"id": user_id})
            await connection.execute(_ORDER, {"id": order_id, "user_id": user_id})
            await connection.execute(
                _ATTEMPTS, {"user_id": user_id, "order_id": order_id, "rows": ROWS}
            )
        sessionmaker = db.create_sessionmaker(engine)
        before = rss_mb()
        started = time.perf_counter()
        lines = size = 0
        async with sessionmaker() as session:
            staff = await session.get(User, user_id)
            assert staff is not None
            chunks = await service.export_csv(
                session,
                filters=AttemptFilters(),
                q=None,
                sort=PaymentSort.newest,
                batch=BATCH,
                gateway=gateway,
                user=staff,
            )
            async for chunk in chunks:
                lines += chunk.count("\r\n")
                size += len(chunk.encode())
        elapsed = time.perf_counter() - started
        streamed_peak = peak_mb()
        async with sessionmaker() as session:
            everything = await ConsoleRepository.from_session(session).page(
                filters=AttemptFilters(),
                terms=None,
                sort=PaymentSort.newest,
                after=None,
                limit=ROWS,
            )
            held = len(everything)
        loaded_peak = peak_mb()
        await engine.dispose()
    await gateway.aclose()
    print(
        f"export: {lines - 1:,} rows, {size / 1e6:.1f} MB of CSV in {elapsed:.1f} s "
        f"({(lines - 1) / elapsed:,.0f} rows/s), batches of {BATCH}"
    )
    print(
        f"  RSS before {before:.0f} MB, peak while streaming {streamed_peak:.0f} MB "
        f"(+{streamed_peak - before:.0f} MB)"
    )
    print(
        f"  reference, the same {held:,} rows loaded at once (no CSV): peak {loaded_peak:.0f} MB "
        f"(+{loaded_peak - before:.0f} MB)"
    )


def main() -> None:
    use_uvloop()
    asyncio.run(run())
