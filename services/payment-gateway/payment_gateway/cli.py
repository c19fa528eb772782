"""`python -m payment_gateway.cli`: operator commands.

reconcile --from T --to T [--sources S ...] [--statement FILE]
    import the statement (if given), then run reconciliation over [from, to) in this process,
    with a progress line, and print the count of each verdict; exit 1 if the run failed.
    A window asked for before answers with its run (a finished one is only reported).

audit verify [--from SEQ|TIME] | audit chain | audit checkpoint | audit archive
    the tamper-evident audit trail (see `shared.audit.cli`); verify exits 1 when broken.
rotate-keys [--dry-run]
    re-encrypt every stored Daraja credential not yet under the newest key of
    GATEWAY_ENCRYPTION_KEYS (each under a fresh data key) and print how many values of each
    column changed (or would, with --dry-run). Running it again changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TextIO

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payment_gateway import clients
from payment_gateway.audit import service as audit_service
from payment_gateway.config import Settings
from payment_gateway.credentials import service as credentials_service
from payment_gateway.credentials.envelope import Keyring
from payment_gateway.integrations.daraja import DarajaClient
from payment_gateway.models import ReconciliationRun, RecordSource, RunStatus, Verdict
from payment_gateway.reconciliation import runs, service, statement
from payment_gateway.reconciliation.exceptions import ResultsPending, SourceUnavailable
from shared import db
from shared.audit import cli as audit_cli
from shared.errors import DomainError

CHUNK_BYTES = 1 << 20
OPERATOR = "cli"


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk


def _aware(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} needs a UTC offset, e.g. 2026-12-01T00:00+03:00"
        )
    return moment


def _progress(out: TextIO, run_phase: str, judged: int) -> None:
    out.write(f"\r{run_phase:<10} {judged:>9} verdicts")
    out.flush()


async def _import(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, path: Path, out: TextIO
) -> None:
    async with sessionmaker() as session, db.unit_of_work(session, None):
        imported = await statement.import_statement(
            session,
            chunks=_file_chunks(path),
            filename=path.name,
            imported_by=OPERATOR,
            settings=settings,
        )
    record = imported.statement
    out.write(
        f"statement: {record.rows} rows, {record.new} new, {record.duplicates} duplicates, "
        f"{len(imported.rejected)} rejected\n"
    )
    for line in imported.rejected[:20]:
        out.write(f"  line {line['line']}: {line['reason']}\n")


async def _drive(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    daraja: DarajaClient,
    run_id: uuid.UUID,
    out: TextIO,
) -> ReconciliationRun:
    """Step the run until it ends, one unit of work per step, showing progress."""
    while True:
        try:
            async with sessionmaker() as session, db.unit_of_work(session, None):
                status = await runs.advance(
                    session, run_id=run_id, settings=settings, daraja=daraja
                )
                run = await service.get_run(session, run_id=run_id)
                judged = sum((await service.counts(session, run_id=run_id)).values())
        except ResultsPending:
            await asyncio.sleep(settings.RECONCILIATION_STATUS_POLL_S)
            continue
        except SourceUnavailable as e:
            out.write(f"\n{e}; trying again in {settings.RECONCILIATION_RETRY_S:g} s\n")
            await asyncio.sleep(settings.RECONCILIATION_RETRY_S)
            continue
        _progress(out, str(run.checkpoint.get("phase", "")), judged)
        if status in (RunStatus.completed, RunStatus.failed):
            out.write("\n")
            return run


def _summary(run: ReconciliationRun, out: TextIO) -> int:
    out.write(f"run {run.id}: {run.status}\n")
    if run.status == RunStatus.failed:
        out.write(f"error: {run.error}\n")
        return 1
    width = max(len(v.value) for v in Verdict)
    for verdict in Verdict:
        out.write(f"  {verdict.value:<{width}}  {run.summary.get(verdict.value, 0):>9}\n")
    return 0


async def reconcile(
    settings: Settings,
    *,
    start: datetime,
    end: datetime,
    sources: list[str],
    statement_path: Path | None,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    engine = db.create_engine(settings.DATABASE_URL, pool_size=2, max_overflow=0)
    sessionmaker = db.create_sessionmaker(engine)
    redis = Redis.from_url(settings.REDIS_URL)
    daraja_clients = clients.daraja_clients(settings, redis=redis, sessionmaker=sessionmaker)
    try:
        daraja = await daraja_clients.active()
        if statement_path is not None:
            await _import(sessionmaker, settings, statement_path, out)
        async with sessionmaker() as session, db.unit_of_work(session, None):
            run = await service.request_run(
                session,
                start=start,
                end=end,
                sources=sources,
                requested_by=OPERATOR,
                settings=settings,
            )
        return _summary(await _drive(sessionmaker, settings, daraja, run.id, out), out)
    finally:
        await daraja_clients.aclose()
        await redis.aclose()
        await engine.dispose()


async def rotate_keys(settings: Settings, *, dry_run: bool, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    engine = db.create_engine(settings.DATABASE_URL, pool_size=1, max_overflow=0)
    keyring = Keyring.of(settings.encryption_keys)
    try:
        async with db.create_sessionmaker(engine)() as session, db.unit_of_work(session, None):
            rotation = await credentials_service.rotate(
                session, keyring=keyring, dry_run=dry_run, actor=audit_cli.OPERATOR
            )
    finally:
        await engine.dispose()
    verb = "would re-encrypt" if dry_run else "re-encrypted"
    out.write(f"{verb} {rotation.rows} credential rows under key {keyring.current_id!r}\n")
    width = max(len(column) for column in rotation.columns)
    for column, count in rotation.columns.items():
        out.write(f"  {column:<{width}}  {count:>5}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m payment_gateway.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("reconcile", help="reconcile a window [from, to)")
    command.add_argument("--from", dest="start", type=_aware, required=True)
    command.add_argument("--to", dest="end", type=_aware, required=True)
    command.add_argument(
        "--sources", nargs="*", choices=[s.value for s in RecordSource], default=None
    )
    command.add_argument("--statement", type=Path, default=None)
    audit_cli.add_commands(commands)
    rotate = commands.add_parser(
        "rotate-keys", help="re-encrypt stored credentials under the newest encryption key"
    )
    rotate.add_argument("--dry-run", action="store_true", help="count, change nothing")
    args = parser.parse_args(argv)
    if args.command == "audit":
        return asyncio.run(
            audit_cli.run(
                args, audit_trail=audit_service.TRAIL, settings=Settings(), out=sys.stdout
            )
        )
    if args.command == "rotate-keys":
        try:
            return asyncio.run(rotate_keys(Settings(), dry_run=args.dry_run))
        except DomainError as e:
            print(f"{type(e).__name__}: {e.message}", file=sys.stderr)
            return 2
    sources = args.sources
    if sources is None:
        sources = [RecordSource.statement] if args.statement else []
    try:
        return asyncio.run(
            reconcile(
                Settings(),
                start=args.start,
                end=args.end,
                sources=sources,
                statement_path=args.statement,
            )
        )
    except DomainError as e:
        print(f"{type(e).__name__}: {e.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
