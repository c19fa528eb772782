"""The audit jobs as the worker runs them: the chain job a committed request queued links its
entry within seconds; the checkpoint cron signs the head and writes it outside the database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from session_api.audit import tasks as audit_tasks
from session_api.config import Settings
from session_api.models import AuditEntry, UserRole
from session_api.worker import worker_settings
from shared.testing import start_worker, wait_until
from tests.session_api.fixtures import MakeAccount, make_settings


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url, redis_url, AUDIT_CHECKPOINT_FILE=str(tmp_path / "checkpoints.jsonl")
    )


async def test_the_worker_links_what_a_request_recorded(
    app: FastAPI, live_api: httpx.AsyncClient, live_account: MakeAccount, settings: Settings
) -> None:
    admin = await live_account(role=UserRole.admin)
    worker = start_worker(worker_settings(settings), cron=False)
    try:
        response = await live_api.get("/v1/payments", headers=admin.headers)
        assert response.status_code == 200

        async def linked() -> AuditEntry | None:
            async with app.state.sessionmaker() as session:
                entry = await session.scalar(
                    select(AuditEntry).where(AuditEntry.action == "payment.listed")
                )
            return entry if entry is not None and entry.hash is not None else None

        entry = await wait_until(linked, within=10, what="the chain job to link the entry")
    finally:
        await worker.kill()
    assert entry.seq == 1


async def test_the_checkpoint_job_signs_the_head_once_until_it_moves(
    app: FastAPI, live_api: httpx.AsyncClient, live_account: MakeAccount, settings: Settings
) -> None:
    admin = await live_account(role=UserRole.admin)
    await live_api.get("/v1/orders", headers=admin.headers)
    ctx = {"settings": settings, "sessionmaker": app.state.sessionmaker, "redis": None}

    first = await audit_tasks.checkpoint(ctx)
    again = await audit_tasks.checkpoint(ctx)

    assert first == 1 and again is None
    lines = (await asyncio.to_thread(settings.audit_checkpoint_path.read_text)).splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1]
