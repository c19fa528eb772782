"""`python -m <service>.cli audit ...`, the same in both services:

audit verify [--from SEQ|TIME]   recompute the chain and check every signed checkpoint; print
                                 the report and exit 1 if anything is broken
audit chain                      link the entries waiting for the chainer now
audit checkpoint                 link, then sign the head (and write it outside the database)
audit archive                    archive the entries past retention to a file, record its hash
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import db
from shared.audit import trail
from shared.audit.settings import AuditSettings

OPERATOR = "cli"


def _start(value: str) -> int | datetime:
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(
            f"{value!r} is neither a seq number nor an ISO 8601 time such as 2026-12-01T00:00Z"
        ) from e
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs a UTC offset, e.g. 2026-12-01T00:00Z")
    return moment


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = commands.add_parser("audit", help="the tamper-evident audit trail")
    actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = actions.add_parser("verify", help="recompute the chain, check every checkpoint")
    verify.add_argument(
        "--from",
        dest="start",
        type=_start,
        default=None,
        help="start at this seq, or at the first entry at or after this time",
    )
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    actions.add_parser("chain", help="link the entries waiting for the chainer")
    actions.add_parser("checkpoint", help="sign the head now")
    actions.add_parser("archive", help="archive entries past retention")


async def run(
    args: argparse.Namespace,
    *,
    audit_trail: trail.Trail,
    settings: AuditSettings,
    out: TextIO,
) -> int:
    engine = db.create_engine(settings.DATABASE_URL, pool_size=2, max_overflow=0)
    sessionmaker = db.create_sessionmaker(engine)
    try:
        return await _run(args, audit_trail, settings, sessionmaker, out)
    finally:
        await engine.dispose()


async def _run(
    args: argparse.Namespace,
    audit_trail: trail.Trail,
    settings: AuditSettings,
    sessionmaker: async_sessionmaker[AsyncSession],
    out: TextIO,
) -> int:
    command = args.audit_command
    if command in ("chain", "checkpoint"):
        async with sessionmaker() as session, db.unit_of_work(session, None):
            linked = await trail.chain(
                audit_trail, session, batch_size=settings.AUDIT_CHAIN_BATCH_SIZE
            )
        out.write(f"linked {linked} entries\n")
        if command == "chain":
            return 0
        async with sessionmaker() as session, db.unit_of_work(session, None):
            signed = await trail.checkpoint(audit_trail, session, settings=settings)
        if signed is None:
            out.write("the head has not moved since the last checkpoint\n")
        else:
            out.write(f"checkpoint: seq {signed.seq} head {signed.head_hash} key {signed.key_id}\n")
        return 0
    if command == "archive":
        files = 0
        while True:
            async with sessionmaker() as session, db.unit_of_work(session, None):
                written = await trail.archive(
                    audit_trail, session, settings=settings, actor=OPERATOR
                )
            if written is None:
                break
            files += 1
            out.write(
                f"archived seq {written.from_seq}-{written.to_seq} ({written.rows} rows) to "
                f"{written.path} sha256 {written.sha256}\n"
            )
        out.write(f"{files} archive files written\n")
        return 0
    start = args.start
    async with sessionmaker() as session:
        report = await trail.verify(
            audit_trail,
            session,
            settings=settings,
            from_seq=start if isinstance(start, int) else None,
            from_time=start if isinstance(start, datetime) else None,
        )
    if args.json:
        out.write(json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
    else:
        out.write(
            f"{report.service}: {report.rows_checked} entries checked "
            f"(seq {report.first_seq}-{report.last_seq}), {report.unchained} not yet linked, "
            f"{report.checkpoints_checked} checkpoints checked\n"
        )
        if report.first_broken is not None:
            broken = report.first_broken
            out.write(f"FIRST BROKEN ROW: seq {broken.seq} (id {broken.id}): {broken.reason}\n")
        for problem in report.problems:
            out.write(f"  - {problem}\n")
        out.write("OK: the chain and every checkpoint verify\n" if report.ok else "BROKEN\n")
    return 0 if report.ok else 1
