"""Concurrent requests never fork the chain: 50 audited requests at once, committing for real,
while several chainers run at the same time, leave one unbroken chain."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from session_api.audit import service as audit
from session_api.config import Settings
from session_api.models import AuditEntry, UserRole
from shared import db
from tests.session_api.fixtures import MakeAccount, make_settings

REQUESTS = 50
CHAINERS = 4


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        redis_url,
        AUDIT_CHECKPOINT_FILE=str(tmp_path / "checkpoints.jsonl"),
        AUDIT_CHAIN_BATCH_SIZE=7,  # several batches per run, so batches interleave too
    )


async def test_fifty_concurrent_audited_requests_leave_one_unbroken_chain(
    app: FastAPI, live_api: httpx.AsyncClient, live_account: MakeAccount, settings: Settings
) -> None:
    admin = await live_account(role=UserRole.admin)
    sessionmaker = app.state.sessionmaker
    requests_done = asyncio.Event()

    async def chainer() -> int:
        linked = 0
        while not requests_done.is_set():
            async with sessionmaker() as session, db.unit_of_work(session, None):
                linked += await audit.chain(session, settings=settings)
            await asyncio.sleep(0)
        return linked

    async def requests() -> list[httpx.Response]:
        try:
            return await asyncio.gather(
                *(
                    live_api.get(f"/v1/payments?page={n % 5 + 1}", headers=admin.headers)
                    for n in range(REQUESTS)
                )
            )
        finally:
            requests_done.set()

    chainers = [asyncio.create_task(chainer()) for _ in range(CHAINERS)]
    responses = await requests()
    await asyncio.gather(*chainers)
    async with sessionmaker() as session, db.unit_of_work(session, None):
        await audit.chain(session, settings=settings)
    async with sessionmaker() as session, db.unit_of_work(session, None):
        await audit.checkpoint(session, settings=settings)

    assert [r.status_code for r in responses] == [200] * REQUESTS
    async with sessionmaker() as session:
        rows = list((await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars())
        listed = await session.scalar(
            select(func.count()).where(AuditEntry.action == "payment.listed")
        )
        report = await audit.verify(session, settings=settings)
    assert listed == REQUESTS
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    # One chain: every row links to the one before it, and no two rows share a parent.
    assert all(row.prev_hash == before.hash for before, row in itertools.pairwise(rows))
    assert len({row.prev_hash for row in rows}) == len(rows)
    assert report.ok, report.problems
    assert (report.rows_checked, report.unchained, report.first_broken) == (len(rows), 0, None)
    assert report.last_checkpoint is not None and report.last_checkpoint.seq == len(rows)
