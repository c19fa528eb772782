"""The gateway's audit trail on the service level, each test in one rolled-back transaction:
status changes recorded, the chain linked and verified, the append-only trigger, an edited row
named by `verify`, a truncated tail caught against the last signed checkpoint, and retention."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.audit import service as audit
from payment_gateway.config import Settings
from payment_gateway.models import AuditEntry, PaymentStatus
from payment_gateway.payment import lifecycle, messages, service
from payment_gateway.payment.schemas import PaymentCreate
from shared.audit import archive as archive_file
from shared.audit import signing
from shared.audit.chain import GENESIS, Content, entry_hash
from shared.db import utcnow

TABLE = "gateway.audit_entry"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        AUDIT_CHECKPOINT_FILE=str(tmp_path / "checkpoints.jsonl"),
        AUDIT_ARCHIVE_DIR=str(tmp_path / "archive"),
    )


async def entries(session: AsyncSession) -> list[AuditEntry]:
    rows = await session.execute(select(AuditEntry).order_by(AuditEntry.seq))
    return list(rows.scalars())


async def record_some(session: AsyncSession, settings: Settings, count: int) -> None:
    for n in range(count):
        await audit.record(
            session,
            action="test.event",
            actor="tester",
            subject=f"thing:{n}",
            details={"n": n, "nested": {"b": [1, "two"], "a": None}},
            ip="127.0.0.1",
        )
    await audit.chain(session, settings=settings)


async def as_attacker(session: AsyncSession, statement: str, **params: object) -> None:
    """What someone with database access does: switch the trigger off, change rows, switch it
    back on."""
    await session.execute(text(f"ALTER TABLE {TABLE} DISABLE TRIGGER audit_entry_append_only"))
    await session.execute(text(statement), params)
    await session.execute(text(f"ALTER TABLE {TABLE} ENABLE TRIGGER audit_entry_append_only"))
    session.expunge_all()


async def test_a_payments_creation_and_every_status_change_are_audited_and_chained(
    db_session: AsyncSession, settings: Settings
) -> None:
    phone = f"07{secrets.randbelow(10**8):08d}"
    request = PaymentCreate(
        amount=1500, phone=phone, account_reference="ACC-1", description="Audited"
    )
    payment, _ = await service.create(
        db_session, request=request, actor=lifecycle.SYSTEM, settings=settings
    )
    await lifecycle.transition(
        db_session,
        payment=payment,
        to=PaymentStatus.sent,
        actor=lifecycle.SYSTEM,
        customer_message=messages.sent(payment.amount),
        settings=settings,
    )
    await lifecycle.transition(
        db_session,
        payment=payment,
        to=PaymentStatus.failed,
        actor=lifecycle.CALLBACK,
        customer_message="failed",
        reason="insufficient_funds",
        result_code="1",
        settings=settings,
    )

    assert await audit.chain(db_session, settings=settings) >= 3
    rows = [e for e in await entries(db_session) if e.subject == f"payment:{payment.id}"]
    assert [(e.action, e.details["to"]) for e in rows] == [
        ("payment.created", "pending"),
        ("payment.status_changed", "sent"),
        ("payment.status_changed", "failed"),
    ]
    assert rows[0].details["phone"] == f"254*****{phone[-4:]}"
    assert phone[1:] not in json.dumps([e.details for e in rows])
    assert rows[2].details == {
        "from": "sent",
        "to": "failed",
        "reason": "insufficient_funds",
        "source": "callback",
        "result_code": "1",
    }
    assert rows[2].actor == "daraja"
    report = await audit.verify(db_session, settings=settings)
    assert report.ok, report.problems


async def test_the_database_refuses_to_update_or_delete_an_entry(
    db_session: AsyncSession, settings: Settings
) -> None:
    await record_some(db_session, settings, 1)
    await audit.checkpoint(db_session, settings=settings)
    for statement in (
        "UPDATE gateway.audit_entry SET details = '{}'::jsonb",
        "UPDATE gateway.audit_entry SET hash = repeat('0', 64)",
        "DELETE FROM gateway.audit_entry",
    ):
        savepoint = await db_session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            await db_session.execute(text(statement))
        await savepoint.rollback()
    savepoint = await db_session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        await db_session.execute(text("DELETE FROM gateway.audit_checkpoint"))
    await savepoint.rollback()


async def test_verify_names_the_row_an_attacker_edited_with_the_trigger_disabled(
    db_session: AsyncSession, settings: Settings
) -> None:
    await record_some(db_session, settings, 6)
    target = (await entries(db_session))[3]
    await audit.checkpoint(db_session, settings=settings)

    await as_attacker(
        db_session,
        """UPDATE gateway.audit_entry SET details = '{"n": 99}'::jsonb WHERE id = :id""",
        id=target.id,
    )

    report = await audit.verify(db_session, settings=settings)
    assert not report.ok
    assert report.first_broken is not None
    assert (report.first_broken.seq, report.first_broken.id) == (target.seq, target.id)
    assert "content was changed" in report.first_broken.reason
    assert report.broken_rows == 1


async def test_an_attacker_who_also_rewrites_the_hashes_is_caught_by_the_signed_checkpoint(
    db_session: AsyncSession, settings: Settings
) -> None:
    await record_some(db_session, settings, 4)
    await audit.checkpoint(db_session, settings=settings)
    last = (await entries(db_session))[-1]

    # The attacker rewrites the last row and recomputes its hash consistently.
    forged = Content(
        id=last.id,
        at=last.at,
        action=last.action,
        actor="someone-else",
        subject=last.subject,
        ip=last.ip,
        details=last.details,
    )
    assert last.seq is not None and last.prev_hash is not None
    new_hash = entry_hash(forged, seq=last.seq, prev_hash=last.prev_hash)
    await as_attacker(
        db_session,
        "UPDATE gateway.audit_entry SET actor = 'someone-else', hash = :hash WHERE id = :id",
        hash=new_hash,
        id=last.id,
    )

    report = await audit.verify(db_session, settings=settings)
    assert report.first_broken is None
    assert not report.ok
    assert any(f"row {last.seq} now ends in" in p and "rewritten" in p for p in report.problems), (
        report.problems
    )


async def test_a_truncated_tail_is_caught_against_the_last_signed_checkpoint(
    db_session: AsyncSession, settings: Settings
) -> None:
    await record_some(db_session, settings, 5)
    signed = await audit.checkpoint(db_session, settings=settings)
    assert signed is not None and signed.seq == (await entries(db_session))[-1].seq

    await as_attacker(
        db_session, "DELETE FROM gateway.audit_entry WHERE seq > :seq", seq=signed.seq - 2
    )

    report = await audit.verify(db_session, settings=settings)
    assert not report.ok
    assert report.first_broken is None  # what is left is a consistent chain...
    assert report.last_seq == signed.seq - 2
    assert any(  # ...but shorter than the signed one
        f"ends at seq {signed.seq - 2}" in p and f"covers seq {signed.seq}" in p
        for p in report.problems
    ), report.problems


async def test_deleting_the_checkpoints_too_is_caught_by_the_copy_outside_the_database(
    db_session: AsyncSession, settings: Settings
) -> None:
    await record_some(db_session, settings, 3)
    signed = await audit.checkpoint(db_session, settings=settings)
    assert signed is not None
    copy = json.loads(settings.audit_checkpoint_path.read_text().splitlines()[-1])
    assert copy["signature"] == signed.signature and copy["seq"] == signed.seq

    await as_attacker(
        db_session, "DELETE FROM gateway.audit_entry WHERE seq = :seq", seq=signed.seq
    )
    await db_session.execute(
        text("ALTER TABLE gateway.audit_checkpoint DISABLE TRIGGER audit_checkpoint_append_only")
    )
    await db_session.execute(text("DELETE FROM gateway.audit_checkpoint"))

    report = await audit.verify(db_session, settings=settings)
    assert not report.ok
    assert any("in the checkpoint file but not in the database" in p for p in report.problems)
    assert any(f"covers seq {signed.seq}" in p for p in report.problems)


async def test_a_checkpoint_signed_with_another_key_does_not_verify(
    db_session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    await record_some(db_session, settings, 2)
    other = Settings(
        AUDIT_SIGNING_KEY=signing.public_b64(signing.private_key(signing.DEV_SIGNING_KEY)),
        AUDIT_CHECKPOINT_FILE=str(tmp_path / "other.jsonl"),
    )
    await audit.checkpoint(db_session, settings=other)

    report = await audit.verify(db_session, settings=settings)
    assert not report.ok
    assert any("signature does not verify" in p for p in report.problems), report.problems


async def test_unchanged_head_makes_no_new_checkpoint(
    db_session: AsyncSession, settings: Settings
) -> None:
    await record_some(db_session, settings, 2)
    assert await audit.checkpoint(db_session, settings=settings) is not None
    assert await audit.checkpoint(db_session, settings=settings) is None


async def test_rows_past_retention_are_archived_to_a_file_whose_hash_is_audited(
    db_session: AsyncSession, settings: Settings
) -> None:
    await record_some(db_session, settings, 5)
    await audit.checkpoint(db_session, settings=settings)
    rows = await entries(db_session)
    later = utcnow() + timedelta(days=settings.AUDIT_RETENTION_DAYS, seconds=1)

    written = await audit.archive(db_session, settings=settings, actor="tester", now=later)

    assert written is not None
    # Everything but the head (which the chain continues from) went to the file.
    assert (written.from_seq, written.to_seq) == (rows[0].seq, rows[-2].seq)
    assert archive_file.check(written.path, sha256=written.sha256) == []
    kept = await entries(db_session)
    assert [e.seq for e in kept] == [rows[-1].seq, rows[-1].seq + 1]  # type: ignore[operator]
    mark = kept[-1]
    assert mark.action == "audit.archived"
    assert mark.details["sha256"] == written.sha256
    assert mark.details["file"] == written.path.name
    report = await audit.verify(db_session, settings=settings)
    assert report.ok, report.problems
    # Today nothing is old enough: the daily run writes nothing.
    assert await audit.archive(db_session, settings=settings, actor="tester") is None


async def test_an_archive_file_edited_afterwards_fails_its_check(
    db_session: AsyncSession, settings: Settings
) -> None:
    await record_some(db_session, settings, 3)
    later = utcnow() + timedelta(days=settings.AUDIT_RETENTION_DAYS, seconds=1)
    written = await audit.archive(db_session, settings=settings, actor="tester", now=later)
    assert written is not None
    body = written.path.read_text().replace('"n":1', '"n":7')
    written.path.write_text(body)

    problems = archive_file.check(written.path, sha256=written.sha256)
    assert any("SHA-256" in p for p in problems)
    assert any("content was changed" in p for p in problems)


async def test_a_checkpoint_also_goes_to_the_log_stream(
    db_session: AsyncSession, settings: Settings, log_lines: Callable[[], list[str]]
) -> None:
    await record_some(db_session, settings, 2)
    log_lines()

    signed = await audit.checkpoint(db_session, settings=settings)

    logged = [json.loads(line) for line in log_lines() if "audit_checkpoint" in line]
    assert signed is not None
    assert [entry["checkpoint"]["signature"] for entry in logged] == [signed.signature]
    assert logged[0]["checkpoint"]["head_hash"] == signed.head_hash


async def test_health_shows_entries_waiting_for_the_chainer_and_for_a_checkpoint(
    db_session: AsyncSession, settings: Settings
) -> None:
    await record_some(db_session, settings, 2)
    await audit.checkpoint(db_session, settings=settings)
    assert await audit.health(db_session) == (0, 0.0)

    await audit.record(db_session, action="test.late", actor="tester")
    await db_session.flush()
    unchained, _ = await audit.health(db_session)
    await audit.chain(db_session, settings=settings)
    chained, waited = await audit.health(db_session)

    assert (unchained, chained) == (1, 0)
    assert waited > 0


async def test_a_chain_rewritten_from_its_first_row_is_caught_by_the_copy_outside_the_database(
    db_session: AsyncSession, settings: Settings
) -> None:
    await audit.chain(db_session, settings=settings)  # whatever other tests committed
    await record_some(db_session, settings, 3)
    await audit.checkpoint(db_session, settings=settings)
    rows = await entries(db_session)

    # The attacker rewrites the first row, recomputes every hash after it, and removes the
    # checkpoints the database holds: the chain is consistent again, but not the signed one.
    prev = GENESIS
    forged: dict[int, str] = {}
    for row in rows:
        actor = "someone-else" if row.seq == rows[0].seq else row.actor
        content = Content(
            id=row.id,
            at=row.at,
            action=row.action,
            actor=actor,
            subject=row.subject,
            ip=row.ip,
            details=row.details,
        )
        assert row.seq is not None
        prev = forged[row.id] = entry_hash(content, seq=row.seq, prev_hash=prev)
    await db_session.execute(
        text("ALTER TABLE gateway.audit_entry DISABLE TRIGGER audit_entry_append_only")
    )
    await db_session.execute(
        text("UPDATE gateway.audit_entry SET actor = 'someone-else' WHERE id = :id"),
        {"id": rows[0].id},
    )
    previous = GENESIS
    for row in rows:
        await db_session.execute(
            text("UPDATE gateway.audit_entry SET prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"prev": previous, "hash": forged[row.id], "id": row.id},
        )
        previous = forged[row.id]
    await db_session.execute(
        text("ALTER TABLE gateway.audit_checkpoint DISABLE TRIGGER audit_checkpoint_append_only")
    )
    await db_session.execute(text("DELETE FROM gateway.audit_checkpoint"))
    db_session.expunge_all()

    report = await audit.verify(db_session, settings=settings)

    assert report.first_broken is None  # internally consistent...
    assert not report.ok  # ...but not what was signed
    assert any("it belongs to another chain" in p for p in report.problems), report.problems


async def test_verify_can_start_at_a_seq_or_a_time(
    db_session: AsyncSession, settings: Settings
) -> None:
    await audit.chain(db_session, settings=settings)  # whatever other tests committed
    await record_some(db_session, settings, 3)
    mine = (await entries(db_session))[-3:]

    by_seq = await audit.verify(db_session, settings=settings, from_seq=mine[1].seq)
    by_time = await audit.verify(db_session, settings=settings, from_time=mine[1].at)

    assert by_seq.ok and by_time.ok
    assert (by_seq.first_seq, by_seq.rows_checked) == (mine[1].seq, 2)
    assert by_time.first_seq == min(row.seq or 0 for row in mine if row.at >= mine[1].at)
