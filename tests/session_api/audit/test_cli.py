"""`python -m session_api.cli audit verify`: an entry edited directly in the database, with the
trigger disabled as an attacker with database access would, is named by seq and id."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from session_api import cli
from session_api.audit import service as audit
from session_api.config import Settings
from session_api.models import AuditEntry
from shared import db


@pytest.fixture
def settings(clean_database: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI commits and reads its settings from the environment."""
    monkeypatch.setenv("SESSION_API_AUDIT_CHECKPOINT_FILE", str(tmp_path / "checkpoints.jsonl"))
    return Settings()


async def committed_chain(engine: AsyncEngine, settings: Settings, count: int) -> list[AuditEntry]:
    sessionmaker = db.create_sessionmaker(engine)
    async with sessionmaker() as session, db.unit_of_work(session, None):
        for n in range(count):
            await audit.record(session, action="test.event", actor="tester", details={"n": n})
    async with sessionmaker() as session, db.unit_of_work(session, None):
        await audit.chain(session, settings=settings)
    async with sessionmaker() as session, db.unit_of_work(session, None):
        await audit.checkpoint(session, settings=settings)
    async with sessionmaker() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.seq))).scalars())


async def test_verify_passes_an_intact_chain_and_names_the_row_edited_behind_its_back(
    db_engine: AsyncEngine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = await committed_chain(db_engine, settings, 5)
    # The CLI runs its own event loop, as it does from a shell.
    assert await asyncio.to_thread(cli.main, ["audit", "verify"]) == 0
    assert "OK: the chain and every checkpoint verify" in capsys.readouterr().out
    target = rows[2]

    async with db_engine.begin() as connection:
        await connection.execute(
            text("ALTER TABLE sessions.audit_entry DISABLE TRIGGER audit_entry_append_only")
        )
        await connection.execute(
            text("UPDATE sessions.audit_entry SET actor = 'nobody' WHERE id = :id"),
            {"id": target.id},
        )
        await connection.execute(
            text("ALTER TABLE sessions.audit_entry ENABLE TRIGGER audit_entry_append_only")
        )
    code = await asyncio.to_thread(cli.main, ["audit", "verify"])

    out = capsys.readouterr().out
    assert code == 1, out
    assert f"FIRST BROKEN ROW: seq {target.seq} (id {target.id})" in out
    assert "BROKEN" in out.splitlines()[-1]
