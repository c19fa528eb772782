"""Callback ingest: how fast one gateway API process takes Daraja's STK callbacks.

32 concurrent connections POST success callbacks, each for its own `sent` payment, to one
`payment_gateway` API process (uvicorn, as `python -m payment_gateway` runs it) on real
PostgreSQL, and the same load to a reference: a bare FastAPI endpoint doing the two essential
writes with raw asyncpg (store the raw body in an inbox, mark the payment paid). Printed: requests
per second and p50/p99 latency of each, and the ratio gateway/reference.

The gateway does its whole job per callback: store, lock the payment, check amount and phone,
transition, timeline entry, outbox event and delivery row, job to Redis, two commits.

Needs DATABASE_URL and REDIS_URL (`make bench` sets them). Works in a scratch database
`<name>_bench` on the same server, and a Redis namespace of its own; both are removed at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from fastapi import FastAPI, Request, Response

from payment_gateway.callback.repository import STORE_CALLBACK
from payment_gateway.config import DEV_WEBHOOK_SECRET

CONCURRENCY = 32
WARMUP = 300
# The machine is shared: the targets take turns, round after round, and each reports its
# median round, so a burst of someone else's load does not decide the ratio.
ROUNDS = 5
PER_ROUND = 1000
MEASURED = ROUNDS * PER_ROUND
ROOT = Path(__file__).resolve().parent.parent


def base_urls() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        sys.exit("set DATABASE_URL and REDIS_URL (make bench does)")
    return database_url, redis_url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def plain(url: str) -> str:
    """asyncpg wants postgresql://, SQLAlchemy's URL says postgresql+asyncpg://."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def migrate(url: str) -> None:
    alembic = [
        "alembic",
        "-c",
        "migrations/alembic.ini",
        "-n",
        "payment_gateway",
        "upgrade",
        "head",
    ]
    subprocess.run(
        [sys.executable, "-m", *alembic],
        check=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
    )


@contextlib.contextmanager
def worker_process(env: dict[str, str]) -> Iterator[None]:
    """`python -m payment_gateway.worker`, as deployed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "payment_gateway.worker"],
        cwd=ROOT,
        env={**os.environ, **env},
        # arq prints the cancellation of in-flight jobs on SIGTERM; the figures say what matters.
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def wait_for_count(
    connection: asyncpg.Connection, sql: str, *args: Any, target: int, within_s: float = 600
) -> int:
    deadline = time.perf_counter() + within_s
    count = 0
    while time.perf_counter() < deadline:
        count = await connection.fetchval(sql, *args)
        if count >= target:
            break
        await asyncio.sleep(0.2)
    return int(count)


@contextlib.asynccontextmanager
async def scratch_database(database_url: str, suffix: str) -> AsyncIterator[str]:
    """A fresh database beside the given one, migrated, dropped afterwards."""
    name = (urlsplit(database_url).path.lstrip("/") or "postgres") + suffix
    admin = await asyncpg.connect(plain(with_database(database_url, "postgres")))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(database_url, name)
    await asyncio.to_thread(migrate, url)
    try:
        yield url
    finally:
        admin = await asyncpg.connect(plain(with_database(database_url, "postgres")))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def drop_redis_namespace(redis_url: str, namespace: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        keys = [k async for k in redis.scan_iter(f"*{namespace}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def server(
    target: str, env: dict[str, str], *, factory: bool = True, port: int | None = None
) -> Iterator[str]:
    """`uvicorn <target>` in a subprocess on a free port (uvloop and httptools, as deployed)."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--no-proxy-headers",
    ]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{target} exited with {process.returncode}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{target} did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# A lean HTTP/1.1 keep-alive client, so that the load generator is not what gets measured.


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = (
            f"POST {path} HTTP/1.1\r\nhost: {self.host}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n{extra}\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    failures: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

    def line(self) -> str:
        return (
            f"{self.name:<24} {self.rps:8.0f} req/s   p50 {self.percentile(0.50):6.2f} ms   "
            f"p99 {self.percentile(0.99):6.2f} ms   ({len(self.latencies_ms)} requests, "
            f"{self.failures} failed)"
        )


async def load(
    name: str,
    base_url: str,
    requests: list[tuple[str, bytes, dict[str, str]]],
    *,
    concurrency: int = CONCURRENCY,
    accept: Callable[[int], bool] = lambda status: status == 200,
) -> Result:
    parts = urlsplit(base_url)
    queue = iter(requests)
    latencies: list[float] = []
    failures = 0

    async def client() -> None:
        nonlocal failures
        connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        try:
            for path, body, headers in queue:
                started = time.perf_counter()
                status, _ = await connection.post(path, body, headers)
                latencies.append((time.perf_counter() - started) * 1000)
                if not accept(status):
                    failures += 1
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Result(name, len(requests), time.perf_counter() - started, latencies, failures)


REFERENCE_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS bench_reference;
CREATE TABLE bench_reference.payment (
    id uuid PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    status text NOT NULL,
    receipt_number text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE bench_reference.inbox (
    id bigserial PRIMARY KEY,
    payment_id uuid NOT NULL REFERENCES bench_reference.payment(id),
    dedupe_key text NOT NULL UNIQUE,
    body bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
"""

# Store, then settle in place: the two writes of an inbox that credits inline.
_STORE = """
WITH target AS (SELECT id FROM bench_reference.payment WHERE token_hash = $1)
INSERT INTO bench_reference.inbox (payment_id, dedupe_key, body)
SELECT id, id::text || ':' || $2, $3 FROM target
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING payment_id
"""
_SETTLE = """
UPDATE bench_reference.payment SET status = 'completed', receipt_number = $2, updated_at = now()
WHERE id = $1 AND status = 'sent'
"""
ACK = b'{"ResultCode":0,"ResultDesc":"Accepted"}'


def reference_app() -> FastAPI:
    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(
            os.environ["REFERENCE_DATABASE_URL"], min_size=10, max_size=10
        )
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/events")
    async def events() -> Response:
        """A webhook subscriber that takes everything, for the worker phase."""
        return Response(status_code=204)

    @app.post("/same/{token}")
    async def same_writes(token: str, request: Request) -> Response:
        body = await request.body()
        assert pool is not None
        digest = hashlib.sha256(body).hexdigest()
        token_hash = hashlib.sha256(token.encode()).hexdigest()
        # The gateway's own statement (store and announce), without the gateway around it.
        await pool.fetchrow(STORE_CALLBACK, token_hash, digest, body, None, "bench_reference")
        return Response(ACK, media_type="application/json")

    @app.post("/settle/{token}")
    async def store_and_settle(token: str, request: Request) -> Response:
        body = await request.body()
        assert pool is not None
        digest = hashlib.sha256(body).hexdigest()
        token_hash = hashlib.sha256(token.encode()).hexdigest()
        payment_id = await pool.fetchval(_STORE, token_hash, digest, body)
        if payment_id is not None:
            stk = json.loads(body)["Body"]["stkCallback"]
            items = {i["Name"]: i.get("Value") for i in stk["CallbackMetadata"]["Item"]}
            await pool.execute(_SETTLE, payment_id, items["MpesaReceiptNumber"])
        return Response(ACK, media_type="application/json")

    return app


@dataclass(frozen=True)
class SeededPayment:
    id: uuid.UUID
    token: str
    phone: str
    amount: int
    checkout_request_id: str


def seed_payments(count: int, *, start: int = 0) -> list[SeededPayment]:
    """`count` payments waiting for their callback; `start` keeps phones and ids of several
    batches apart (one open payment per phone is a database rule)."""
    return [
        SeededPayment(
            id=uuid.uuid4(),
            token=secrets.token_hex(20),
            phone=f"2547{i:08d}",
            amount=100 + i % 900,
            checkout_request_id=f"ws_CO_bench{i:010d}",
        )
        for i in range(start, start + count)
    ]


async def insert_gateway_payments(
    connection: asyncpg.Connection, payments: list[SeededPayment]
) -> None:
    await connection.copy_records_to_table(
        "payment",
        schema_name="gateway",
        columns=[
            "id",
            "status",
            "amount",
            "phone",
            "account_reference",
            "description",
            "environment",
            "checkout_request_id",
            "merchant_request_id",
            "customer_message",
            "created_by",
            "sequence",
            "push_attempts",
            "poll_step",
            "pushed_at",
        ],
        records=[
            (
                p.id,
                "sent",
                p.amount,
                p.phone,
                "BENCH",
                "Bench",
                "sandbox",
                p.checkout_request_id,
                "bench-merchant",
                "Check your phone",
                "bench",
                1,
                1,
                0,
                None,
            )
            for p in payments
        ],
    )
    await connection.copy_records_to_table(
        "callback_token",
        schema_name="gateway",
        columns=["token_hash", "payment_id", "push_attempt"],
        records=[(hashlib.sha256(p.token.encode()).hexdigest(), p.id, 1) for p in payments],
    )


async def insert_reference_payments(
    connection: asyncpg.Connection, payments: list[SeededPayment]
) -> None:
    await connection.copy_records_to_table(
        "payment",
        schema_name="bench_reference",
        columns=["id", "token_hash", "status"],
        records=[(p.id, hashlib.sha256(p.token.encode()).hexdigest(), "sent") for p in payments],
    )


def callback_body(payment: SeededPayment) -> bytes:
    return json.dumps(
        {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": "bench-merchant",
                    "CheckoutRequestID": payment.checkout_request_id,
                    "ResultCode": 0,
                    "ResultDesc": "The service request is processed successfully.",
                    "CallbackMetadata": {
                        "Item": [
                            {"Name": "Amount", "Value": float(payment.amount)},
                            {
                                "Name": "MpesaReceiptNumber",
                                "Value": "UKB" + payment.checkout_request_id[-7:],
                            },
                            {"Name": "Balance"},
                            {"Name": "TransactionDate", "Value": 20261122101502},
                            {"Name": "PhoneNumber", "Value": int(payment.phone)},
                        ]
                    },
                }
            }
        }
    ).encode()


def requests_for(
    payments: list[SeededPayment], prefix: str
) -> list[tuple[str, bytes, dict[str, str]]]:
    return [(f"{prefix}/{p.token}", callback_body(p), {}) for p in payments]


def gateway_env(
    database_url: str,
    redis_url: str,
    namespace: str,
    *,
    sink: str = "http://127.0.0.1:9/events",
    **extra: str,
) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
        "GATEWAY_NAMESPACE": namespace,
        "GATEWAY_STATS_REFRESH_S": "3600",
        # The load generator stands in for Safaricom, on its allow-list: its callbacks are
        # believed without asking a Daraja the benchmark does not run.
        "GATEWAY_CALLBACK_ALLOWED_CIDRS": "127.0.0.1/32",
        # One subscriber, as in production: each callback writes a delivery row and queues a job.
        "GATEWAY_WEBHOOK_ENDPOINTS": json.dumps([{"url": sink, "secret": DEV_WEBHOOK_SECRET}]),
        **extra,
    }


@dataclass
class Report:
    gateway: Result
    same: Result
    settle: Result
    drained: int
    drain_seconds: float
    delivered: int


Requests = list[tuple[str, bytes, dict[str, str]]]


async def measure_in_turns(targets: list[tuple[str, str, Requests]]) -> list[Result]:
    """Warm every target up, then let them take turns; each gets its median round (by
    throughput) with the latencies of all its rounds."""
    for name, url, requests in targets:
        await load(name, url, requests[:WARMUP])
    rounds: dict[str, list[Result]] = {name: [] for name, _, _ in targets}
    for index in range(ROUNDS):
        for name, url, requests in targets:
            first = WARMUP + index * PER_ROUND
            rounds[name].append(await load(name, url, requests[first : first + PER_ROUND]))
    results = []
    for name, _, _ in targets:
        ordered = sorted(rounds[name], key=lambda r: r.rps)
        median = ordered[len(ordered) // 2]
        results.append(
            Result(
                name,
                median.requests,
                median.seconds,
                [ms for r in rounds[name] for ms in r.latencies_ms],
                sum(r.failures for r in rounds[name]),
            )
        )
    return results


async def run() -> Report:
    database_url, redis_url = base_urls()
    namespace = f"bench_{uuid.uuid4().hex[:8]}"
    total = WARMUP + MEASURED
    gateway_payments, same_payments, settle_payments = (
        seed_payments(total, start=batch * total) for batch in range(3)
    )
    async with scratch_database(database_url, "_gateway_bench") as url:
        connection = await asyncpg.connect(plain(url))
        try:
            await connection.execute(REFERENCE_SCHEMA)
            await insert_gateway_payments(connection, gateway_payments + same_payments)
            await insert_reference_payments(connection, settle_payments)
            await connection.execute("ANALYZE")
        finally:
            await connection.close()
        try:
            with server(
                "bench.callback_ingest:reference_app", {"REFERENCE_DATABASE_URL": plain(url)}
            ) as ref_url:
                env = gateway_env(url, redis_url, namespace, sink=f"{ref_url}/events")
                with server("payment_gateway.main:build", env) as gw_url:
                    gateway, same, settle = await measure_in_turns(
                        [
                            (
                                "payment-gateway",
                                gw_url,
                                requests_for(gateway_payments, "/v1/callbacks/stk"),
                            ),
                            (
                                "reference: same writes",
                                ref_url,
                                requests_for(same_payments, "/same"),
                            ),
                            (
                                "reference: store+settle",
                                ref_url,
                                requests_for(settle_payments, "/settle"),
                            ),
                        ]
                    )
                # Then one worker settles everything that was stored (announcements are missed
                # while no worker listens; on start it queues whatever waits).
                connection = await asyncpg.connect(plain(url))
                try:
                    # The reference's rows are not the worker's to settle.
                    await connection.execute(
                        "UPDATE gateway.callback_inbox SET processed_at = now(), "
                        "outcome = 'ignored' WHERE payment_id = ANY($1)",
                        [p.id for p in same_payments],
                    )
                    started = time.perf_counter()
                    with worker_process(env):
                        drained = await wait_for_count(
                            connection,
                            "SELECT count(*) FROM gateway.payment "
                            "WHERE status = 'completed' AND id = ANY($1)",
                            [p.id for p in gateway_payments],
                            target=total,
                        )
                        drain_seconds = time.perf_counter() - started
                        delivered = await wait_for_count(
                            connection,
                            "SELECT count(*) FROM gateway.event_delivery "
                            "WHERE status = 'delivered'",
                            target=total,
                        )
                    settled = await connection.fetchval(
                        "SELECT count(*) FROM bench_reference.payment WHERE status = 'completed'"
                    )
                finally:
                    await connection.close()
            if drained != total or settled != total:
                raise RuntimeError(
                    "not every callback settled its payment: "
                    f"gateway {drained}, reference {settled} of {total}"
                )
        finally:
            await drop_redis_namespace(redis_url, namespace)
    return Report(gateway, same, settle, drained, drain_seconds, delivered)


def main() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    report = asyncio.run(run())
    gateway, same, settle = report.gateway, report.same, report.settle
    print(
        f"callback ingest: one API process, real PostgreSQL, {os.cpu_count()} CPUs, "
        f"{CONCURRENCY} concurrent, median of {ROUNDS} alternating rounds"
    )
    for result in (gateway, same, settle):
        print("  " + result.line())
    for reference in (same, settle):
        print(
            f"  ratio to {reference.name!r}: throughput {gateway.rps / reference.rps:.2f}, "
            f"p50 {reference.percentile(0.5) / gateway.percentile(0.5):.2f}, "
            f"p99 {reference.percentile(0.99) / gateway.percentile(0.99):.2f}"
        )
    print(
        f"  then one worker settled {report.drained} stored callbacks in "
        f"{report.drain_seconds:.1f} s ({report.drained / report.drain_seconds:.0f}/s) and "
        f"delivered {report.delivered} events"
    )
    if any(r.failures for r in (gateway, same, settle)):
        sys.exit("some callbacks were not answered 200")


if __name__ == "__main__":
    main()
