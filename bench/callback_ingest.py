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
import hashlib
import json
import os
import secrets
import sys
import time
import uuid
from dataclasses import dataclass

import asyncpg

from bench.loadgen import CONCURRENCY, Requests, Result, measure_in_turns, wait_for_count
from bench.reference import REFERENCE_SCHEMA
from bench.services import (
    ROOT,
    base_urls,
    drop_redis_namespace,
    gateway_env,
    gateway_worker,
    plain,
    use_uvloop,
)
from shared.testing.database import scratch_database
from shared.testing.processes import uvicorn_process

WARMUP = 300
ROUNDS = 5
PER_ROUND = 1000
MEASURED = ROUNDS * PER_ROUND


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


def requests_for(payments: list[SeededPayment], prefix: str) -> Requests:
    return [(f"{prefix}/{p.token}", callback_body(p), {}) for p in payments]


@dataclass
class Report:
    gateway: Result
    same: Result
    settle: Result
    drained: int
    drain_seconds: float
    delivered: int


@dataclass(frozen=True)
class Batches:
    """Three sets of payments waiting for their callback: the gateway's, and one for each
    reference endpoint."""

    gateway: list[SeededPayment]
    same: list[SeededPayment]
    settle: list[SeededPayment]

    @classmethod
    def seed(cls, total: int) -> Batches:
        gateway, same, settle = (seed_payments(total, start=batch * total) for batch in range(3))
        return cls(gateway, same, settle)


async def prepare(url: str, batches: Batches) -> None:
    connection = await asyncpg.connect(plain(url))
    try:
        await connection.execute(REFERENCE_SCHEMA)
        await insert_gateway_payments(connection, batches.gateway + batches.same)
        await insert_reference_payments(connection, batches.settle)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def drain(
    url: str, env: dict[str, str], batches: Batches, total: int
) -> tuple[int, float, int]:
    """One worker settles everything that was stored (announcements are missed while no worker
    listens; on start it queues whatever waits): how many payments it completed, in how many
    seconds, and how many events it delivered."""
    connection = await asyncpg.connect(plain(url))
    try:
        # The reference's rows are not the worker's to settle.
        await connection.execute(
            "UPDATE gateway.callback_inbox SET processed_at = now(), "
            "outcome = 'ignored' WHERE payment_id = ANY($1)",
            [p.id for p in batches.same],
        )
        started = time.perf_counter()
        with gateway_worker(env):
            drained = await wait_for_count(
                connection,
                "SELECT count(*) FROM gateway.payment WHERE status = 'completed' AND id = ANY($1)",
                [p.id for p in batches.gateway],
                target=total,
            )
            drain_seconds = time.perf_counter() - started
            delivered = await wait_for_count(
                connection,
                "SELECT count(*) FROM gateway.event_delivery WHERE status = 'delivered'",
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
    return drained, drain_seconds, delivered


async def run() -> Report:
    database_url, redis_url = base_urls()
    namespace = f"bench_{uuid.uuid4().hex[:8]}"
    total = WARMUP + MEASURED
    batches = Batches.seed(total)
    async with scratch_database(database_url, "_gateway_bench") as url:
        await prepare(url, batches)
        reference_env = {"REFERENCE_DATABASE_URL": plain(url)}
        try:
            with uvicorn_process("bench.reference:reference_app", reference_env, cwd=ROOT) as ref:
                env = gateway_env(url, redis_url, namespace, sink=f"{ref}/events")
                with uvicorn_process("payment_gateway.main:build", env, cwd=ROOT) as gateway_url:
                    gateway, same, settle = await measure_in_turns(
                        [
                            (
                                "payment-gateway",
                                gateway_url,
                                requests_for(batches.gateway, "/v1/callbacks/stk"),
                            ),
                            ("reference: same writes", ref, requests_for(batches.same, "/same")),
                            (
                                "reference: store+settle",
                                ref,
                                requests_for(batches.settle, "/settle"),
                            ),
                        ],
                        warmup=WARMUP,
                        rounds=ROUNDS,
                        per_round=PER_ROUND,
                    )
                drained = await drain(url, env, batches, total)
        finally:
            await drop_redis_namespace(redis_url, namespace)
    return Report(gateway, same, settle, *drained)


def main() -> None:
    use_uvloop()
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
