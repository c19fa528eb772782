"""`python -m payment_gateway.cli audit ...`: the tail of the chain removed directly in the
database is caught against the last signed checkpoint; `checkpoint` signs the head."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from payment_gateway import cli
from payment_gateway.audit import service as audit
from shared import db


@pytest.fixture
def checkpoint_file(clean_database: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI commits and reads its settings from the environment."""
    path = tmp_path / "checkpoints.jsonl"
    monkeypatch.setenv("GATEWAY_AUDIT_CHECKPOINT_FILE", str(path))
    return path


async def test_checkpoint_then_a_truncated_tail_fails_verify(
    db_engine: AsyncEngine, checkpoint_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sessionmaker = db.create_sessionmaker(db_engine)
    async with sessionmaker() as session, db.unit_of_work(session, None):
        for n in range(4):
            await audit.record(session, action="test.event", actor="tester", details={"n": n})

    # The CLI runs its own event loop, as it does from a shell.
    assert await asyncio.to_thread(cli.main, ["audit", "checkpoint"]) == 0
    out = capsys.readouterr().out
    assert "linked 4 entries" in out and "checkpoint: seq 4" in out
    lines = (await asyncio.to_thread(checkpoint_file.read_text)).splitlines()
    assert json.loads(lines[-1])["seq"] == 4
    assert await asyncio.to_thread(cli.main, ["audit", "verify", "--from", "2"]) == 0
    capsys.readouterr()

    async with db_engine.begin() as connection:
        await connection.execute(
            text("ALTER TABLE gateway.audit_entry DISABLE TRIGGER audit_entry_append_only")
        )
        await connection.execute(text("DELETE FROM gateway.audit_entry WHERE seq >= 3"))
        await connection.execute(
            text("ALTER TABLE gateway.audit_entry ENABLE TRIGGER audit_entry_append_only")
        )
    code = await asyncio.to_thread(cli.main, ["audit", "verify"])

    out = capsys.readouterr().out
    assert code == 1, out
    assert "the chain ends at seq 2" in out and "covers seq 4" in out
    assert "rows were removed from its tail" in out


def test_a_start_that_is_neither_a_seq_nor_a_time_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["audit", "verify", "--from", "yesterday"])
    assert "neither a seq number nor an ISO 8601 time" in capsys.readouterr().err
