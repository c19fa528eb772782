"""Statement import and reconciliation: how fast the gateway takes an org-portal statement and
judges it.

Writes a statement of `BENCH_STATEMENT_ROWS` lines (default 1,000,000, one a second from
2001-03-01, Safaricom's 13 columns), then in this process, on real PostgreSQL:
  1. imports it as `POST /v1/reconciliation/statements` does (streamed in 1 MiB chunks, parsed,
     one record per receipt);
  2. a reference: PostgreSQL `COPY` of the same file into a table of 13 text columns;
  3. reconciles the first `BENCH_RECONCILE_ROWS` seconds of it (default: all of it), as a run's
     job does (every line a receipt nothing here matches: each gets a verdict and an exception).
Printed: the times, the import's ratio to COPY, lines per second, and the peak RSS of the process.

Needs DATABASE_URL (`make bench` sets it); works in a scratch database `<name>_statement_bench`.
"""

from __future__ import annotations

import asyncio
import csv
import os
import resource
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.services import base_urls, plain, use_uvloop
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import NAIROBI
from payment_gateway.models import RecordSource, RunStatus
from payment_gateway.reconciliation import runs, service, statement
from shared import db
from shared.testing.database import scratch_database

ROWS = int(os.environ.get("BENCH_STATEMENT_ROWS", "1000000"))
RECONCILED = int(os.environ.get("BENCH_RECONCILE_ROWS", str(ROWS)))
START = datetime(2001, 3, 1, tzinfo=UTC)
CHUNK = 1 << 20


def write_statement(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(statement.REQUIRED_HEADER)
        for i in range(rows):
            when = (START + timedelta(seconds=i)).astimezone(NAIROBI)
            stamp = when.strftime("%d-%m-%Y %H:%M:%S")
            party = f"2547*****{i % 1000:03d} - CUSTOMER {i % 97}"
            reference = f"REF{i % 50000:05d}"
            writer.writerow(
                [
                    f"BN{i:08d}",
                    stamp,
                    stamp,
                    f"Pay Bill from {party} Acc. {reference}",
                    "Completed",
                    f"{100 + i % 9000:,}.00",
                    "",
                    "1,000.00",
                    "true",
                    "Pay Bill",
                    party,
                    "",
                    reference,
                ]
            )


async def chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def import_once(url: str, path: Path) -> tuple[float, int]:
    settings = Settings(DATABASE_URL=url)
    engine = db.create_engine(url, pool_size=2, max_overflow=0)
    started = time.perf_counter()
    async with db.create_sessionmaker(engine)() as session, db.unit_of_work(session, None):
        result = await statement.import_statement(
            session, chunks=chunks(path), filename=path.name, imported_by="bench", settings=settings
        )
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed, result.statement.new


async def copy_reference(url: str, path: Path) -> float:
    connection = await asyncpg.connect(plain(url))
    try:
        columns = ", ".join(f"c{i} text" for i in range(13))
        await connection.execute(f"CREATE TABLE bench_statement_copy ({columns})")
        started = time.perf_counter()
        await connection.copy_to_table(
            "bench_statement_copy", source=str(path), format="csv", header=True
        )
        return time.perf_counter() - started
    finally:
        await connection.close()


async def reconcile(url: str, rows: int) -> tuple[float, dict[str, int]]:
    settings = Settings(DATABASE_URL=url, RECONCILIATION_BATCH_SIZE=2000)
    engine = db.create_engine(url, pool_size=2, max_overflow=0)
    sessionmaker = db.create_sessionmaker(engine)
    started = time.perf_counter()
    async with sessionmaker() as session, db.unit_of_work(session, None):
        run = await service.request_run(
            session,
            start=START,
            end=START + timedelta(seconds=rows),
            sources=[RecordSource.statement],
            requested_by="bench",
            settings=settings,
        )
    status = run.status
    while status not in (RunStatus.completed, RunStatus.failed):
        async with sessionmaker() as session, db.unit_of_work(session, None):
            status = await runs.advance(session, run_id=run.id, settings=settings)
    async with sessionmaker() as session:
        summary = (await service.get_run(session, run_id=run.id)).summary
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed, {k: v for k, v in summary.items() if v}


async def run() -> None:
    database_url, _ = base_urls()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statement.csv"
        written = time.perf_counter()
        await asyncio.to_thread(write_statement, path, ROWS)
        size_mb = path.stat().st_size / 1e6
        print(
            f"statement: {ROWS:,} lines, {size_mb:.0f} MB, written in "
            f"{time.perf_counter() - written:.1f} s"
        )
        async with scratch_database(database_url, "_statement_bench") as url:
            imported_s, new = await import_once(url, path)
            copy_s = await copy_reference(url, path)
            print(
                f"  import (parse, one record per receipt): {imported_s:.1f} s, "
                f"{ROWS / imported_s:,.0f} lines/s, {new:,} new"
            )
            print(f"  reference, PostgreSQL COPY of the file: {copy_s:.1f} s")
            print(f"  ratio import/COPY: {imported_s / copy_s:.1f}")
            reconciled_s, summary = await reconcile(url, min(RECONCILED, ROWS))
            print(
                f"  reconcile {min(RECONCILED, ROWS):,} lines: {reconciled_s:.1f} s, "
                f"{min(RECONCILED, ROWS) / reconciled_s:,.0f} verdicts/s, {summary}"
            )
    print(f"  peak RSS of this process: {peak_rss_mb():.0f} MB")


def main() -> None:
    use_uvloop()
    asyncio.run(run())
