"""Reconciliation runs and exceptions: asking for a run (one per shortcode, window and source
set), reading runs and their verdicts, and staff resolving what needs a person."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import outcome_for
from payment_gateway.models import (
    EventSource,
    ExceptionStatus,
    Payment,
    ReconciliationException,
    ReconciliationItem,
    ReconciliationRun,
    RecordSource,
    ResolveAction,
    RunStatus,
)
from payment_gateway.payment import lifecycle, state
from payment_gateway.payment.repository import PaymentRepository
from payment_gateway.reconciliation.exceptions import (
    ExceptionAlreadyResolved,
    ExceptionNotFound,
    InvalidCursor,
    InvalidResolution,
    InvalidWindow,
    RunNotFound,
    UnknownSource,
)
from payment_gateway.reconciliation.repository import (
    ExceptionRepository,
    ItemRepository,
    RunRepository,
)
from shared.db import utcnow
from shared.jobs import enqueue_after_commit

RUN_TASK = "reconciliation.run"
# What a run asks for when the caller names no sources: everything that needs no upload.
DEFAULT_SOURCES = (RecordSource.stk_query, RecordSource.pull, RecordSource.statement)
REQUESTABLE = frozenset(
    {
        RecordSource.stk_query,
        RecordSource.transaction_status,
        RecordSource.pull,
        RecordSource.statement,
        RecordSource.c2b,
    }
)


def run_key(*, shortcode: str, start: datetime, end: datetime, sources: Sequence[str]) -> str:
    def moment(value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")

    return f"{shortcode}|{moment(start)}|{moment(end)}|{','.join(sorted(set(sources)))}"


def _check_window(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidWindow("from and to must carry a UTC offset, e.g. 2026-12-01T00:00:00+03:00")
    if start >= end:
        raise InvalidWindow("from must be before to: the window is the half-open range [from, to)")


def _check_sources(sources: Sequence[str]) -> list[str]:
    unknown = sorted(set(sources) - REQUESTABLE)
    if unknown:
        raise UnknownSource(
            f"unknown source(s) {', '.join(unknown)}; accepted: {', '.join(sorted(REQUESTABLE))}"
        )
    return sorted(set(sources)) or sorted(DEFAULT_SOURCES)


async def request_run(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    sources: Sequence[str],
    requested_by: str,
    settings: Settings,
) -> ReconciliationRun:
    """The run for this window and source set: a new one (queued, its job enqueued after the
    commit) or the one asked for before."""
    _check_window(start, end)
    chosen = _check_sources(sources)
    key = run_key(shortcode=settings.DARAJA_SHORTCODE, start=start, end=end, sources=chosen)
    run = await RunRepository.from_session(session).create_once(
        ReconciliationRun(
            id=uuid.uuid4(),
            run_key=key,
            shortcode=settings.DARAJA_SHORTCODE,
            window_start=start,
            window_end=end,
            sources=chosen,
            status=RunStatus.queued,
            requested_by=requested_by,
        )
    )
    if run.status == RunStatus.failed:
        # Asked again after it failed: it resumes from its checkpoint (a run that failed
        # before starting starts afresh).
        run = await RunRepository.from_session(session).lock(run.id) or run
        if run.status == RunStatus.failed:
            run.status = RunStatus.running if run.checkpoint else RunStatus.queued
            run.error = None
            run.finished_at = None
            run.updated_at = utcnow()
            await session.flush()
            # A job id of its own: arq keeps the failed job's result, and with it its id.
            enqueue_run(session, run_id=run.id, settings=settings, retry=uuid.uuid4().hex[:12])
    elif run.status == RunStatus.queued:
        enqueue_run(session, run_id=run.id, settings=settings)
    return run


async def _attach(
    session: AsyncSession,
    *,
    exception: ReconciliationException,
    payment: Payment,
    actor: lifecycle.Actor,
    settings: Settings,
) -> None:
    """Money staff attach to an unpaid payment completes it with the receipt (the proof)."""
    receipt = exception.receipt
    if receipt is None or payment.status in state.PAID:
        return
    owner = await PaymentRepository.from_session(session).other_owners(
        payment_id=payment.id, receipt_number=receipt, checkout_request_id=""
    )
    if owner.receipt is not None:
        raise InvalidResolution(f"receipt {receipt} is already on payment {owner.receipt}")
    await lifecycle.settle(
        session,
        payment=payment,
        outcome=outcome_for("0"),
        result_desc=f"attached by {actor.name} from reconciliation",
        receipt=receipt,
        actor=actor,
        detail={"exception_id": str(exception.id)},
        settings=settings,
    )


def enqueue_run(
    session: AsyncSession, *, run_id: uuid.UUID, settings: Settings, retry: str | None = None
) -> None:
    job_id = f"{settings.NAMESPACE}:reconciliation:{run_id}"
    enqueue_after_commit(
        session, RUN_TASK, str(run_id), _job_id=f"{job_id}:{retry}" if retry else job_id
    )


async def pull_run_in_progress(session: AsyncSession) -> bool:
    return await RunRepository.from_session(session).unfinished_with_sources([RecordSource.pull])


async def resume_stalled(session: AsyncSession, *, settings: Settings) -> int:
    older_than = utcnow() - timedelta(seconds=settings.scaled(settings.SWEEP_GRACE_S))
    stalled = await RunRepository.from_session(session).stalled(
        older_than=older_than, limit=settings.SWEEP_BATCH_SIZE
    )
    for run_id in stalled:
        enqueue_run(session, run_id=run_id, settings=settings)
    return len(stalled)


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, size: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as e:
        raise InvalidCursor("cursor must be the next_cursor of a previous page, unchanged") from e
    if not isinstance(values, list) or len(values) != size:
        raise InvalidCursor("cursor must be the next_cursor of a previous page, unchanged")
    return values


def _time_id(values: list[Any] | None) -> tuple[datetime, uuid.UUID] | None:
    if values is None:
        return None
    try:
        return datetime.fromisoformat(values[0]), uuid.UUID(values[1])
    except (TypeError, ValueError) as e:
        raise InvalidCursor("cursor must be the next_cursor of a previous page, unchanged") from e


async def run_page(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[ReconciliationRun], str | None]:
    """Runs, newest first."""
    after = _time_id(decode_cursor(cursor, size=2))
    rows = await RunRepository.from_session(session).page(after=after, limit=limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return page, encode_cursor(
        [page[-1].created_at.isoformat(), str(page[-1].id)]
    ) if more else None


async def item_page(
    session: AsyncSession,
    *,
    run_id: uuid.UUID,
    verdict: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[ReconciliationItem], str | None]:
    """A run's verdicts, in the order they were reached."""
    after = decode_cursor(cursor, size=1)
    if after is not None and not isinstance(after[0], int):
        raise InvalidCursor("cursor must be the next_cursor of a previous page, unchanged")
    rows = await ItemRepository.from_session(session).page(
        run_id=run_id, verdict=verdict, after=after[0] if after else None, limit=limit + 1
    )
    page = rows[:limit]
    return page, encode_cursor([page[-1].id]) if len(rows) > limit else None


async def exception_page(
    session: AsyncSession, *, status: str | None, cursor: str | None, limit: int
) -> tuple[list[ReconciliationException], str | None]:
    """Exceptions, oldest first (the longest waiting on top)."""
    after = _time_id(decode_cursor(cursor, size=2))
    rows = await ExceptionRepository.from_session(session).page(
        status=status, after=after, limit=limit + 1
    )
    page = rows[:limit]
    more = len(rows) > limit
    return page, encode_cursor(
        [page[-1].created_at.isoformat(), str(page[-1].id)]
    ) if more else None


REPORT_COLUMNS = (
    "verdict",
    "payment_id",
    "related_payment_id",
    "receipt",
    "source",
    "amount",
    "mpesa_amount",
    "note",
)


async def report_lines(
    sessionmaker: async_sessionmaker[AsyncSession], *, run_id: uuid.UUID, batch: int = 1000
) -> AsyncIterator[str]:
    """The run's verdicts as CSV lines, read a page at a time (each page its own short
    transaction, so a long download holds no connection between pages)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    after: int | None = None
    while True:
        async with sessionmaker() as session:
            rows = await ItemRepository.from_session(session).page(
                run_id=run_id, verdict=None, after=after, limit=batch
            )
        for item in rows:
            writer.writerow(
                [
                    item.verdict,
                    item.payment_id or "",
                    item.related_payment_id or "",
                    item.receipt or "",
                    item.source or "",
                    "" if item.amount is None else item.amount,
                    "" if item.mpesa_amount is None else item.mpesa_amount,
                    item.detail.get("note", ""),
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(rows) < batch:
            return
        after = rows[-1].id


async def counts(session: AsyncSession, *, run_id: uuid.UUID) -> dict[str, int]:
    """How many verdicts of each kind the run has reached so far."""
    return await ItemRepository.from_session(session).counts(run_id)


async def get_run(session: AsyncSession, *, run_id: uuid.UUID) -> ReconciliationRun:
    run = await RunRepository.from_session(session).get_by_id(run_id)
    if run is None:
        raise RunNotFound(f"no reconciliation run {run_id}")
    return run


async def list_runs(
    session: AsyncSession, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[ReconciliationRun]:
    return await RunRepository.from_session(session).page(after=after, limit=limit)


async def items(
    session: AsyncSession, *, run_id: uuid.UUID, verdict: str | None, after: int | None, limit: int
) -> list[ReconciliationItem]:
    return await ItemRepository.from_session(session).page(
        run_id=run_id, verdict=verdict, after=after, limit=limit
    )


async def list_exceptions(
    session: AsyncSession,
    *,
    status: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ReconciliationException]:
    return await ExceptionRepository.from_session(session).page(
        status=status, after=after, limit=limit
    )


async def resolve_exception(
    session: AsyncSession,
    *,
    exception_id: uuid.UUID,
    action: ResolveAction,
    note: str,
    actor: str,
    payment_id: uuid.UUID | None,
    settings: Settings,
) -> ReconciliationException:
    """Close an exception with an action and a note, both on the payment's timeline with the
    staff member who decided. `attach_to_payment` names the payment the money belongs to."""
    exception = await ExceptionRepository.from_session(session).lock(exception_id)
    if exception is None:
        raise ExceptionNotFound(f"no reconciliation exception {exception_id}")
    if exception.status != ExceptionStatus.open:
        raise ExceptionAlreadyResolved(
            f"exception {exception_id} was resolved ({exception.action}) by {exception.resolved_by}"
        )
    target_id = exception.payment_id
    if action == ResolveAction.attach_to_payment:
        if payment_id is None:
            raise InvalidResolution("attach_to_payment needs payment_id: the payment it belongs to")
        target_id = payment_id
    payments = PaymentRepository.from_session(session)
    payment = await payments.lock(target_id) if target_id is not None else None
    if target_id is not None and payment is None:
        raise InvalidResolution(f"no payment {target_id}")
    staff = lifecycle.Actor(EventSource.admin, actor[:64])
    detail = {
        "exception_id": str(exception.id),
        "verdict": exception.verdict,
        "receipt": exception.receipt,
        "note": note,
    }
    if payment is not None:
        await lifecycle.note(
            session,
            payment=payment,
            reason=f"reconciliation_{action.value}",
            actor=staff,
            detail=detail,
        )
        if action == ResolveAction.attach_to_payment:
            await _attach(
                session, exception=exception, payment=payment, actor=staff, settings=settings
            )
    exception.status = ExceptionStatus.resolved
    exception.action = action
    exception.note = note
    exception.resolved_by = actor[:64]
    exception.resolved_at = utcnow()
    if action == ResolveAction.attach_to_payment:
        exception.payment_id = target_id
    await session.flush()
    return exception
