"""The sources a run must ask before it can judge: STK Query for the window's open and timed-out
payments, and Pull Transactions page by page. Each batch is "commit, then call out": the run's
checkpoint is read, the transaction committed (no lock held while Daraja answers), Daraja asked,
then the run locked again and the answers stored with the next checkpoint, unless another
worker moved it meanwhile (its answers are then the ones kept).

Pull's code 1001 means both "no transactions" and "shortcode not provisioned for Pull". It is
believed as "nothing" only when none of our payments of the window completed: otherwise M-Pesa
holds money Pull did not list, and the run fails saying so rather than reporting nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import (
    DarajaClient,
    DarajaError,
    PullTransaction,
    PullTransactionsPage,
    StkQueryResult,
)
from payment_gateway.models import PaymentStatus, ReconciliationRun, RecordSource, RunStatus
from payment_gateway.payment import monitoring
from payment_gateway.reconciliation.exceptions import SourceUnavailable
from payment_gateway.reconciliation.ledger_repository import LedgerPaymentRepository
from payment_gateway.reconciliation.repository import (
    RecordRepository,
    RunRepository,
)
from shared import db
from shared.db import utcnow

log = structlog.get_logger(__name__)

S = PaymentStatus
PULL_WINDOW = timedelta(hours=48)
PULL_NOTHING = "1001"
# STK Query is asked about payments whose final answer may still be wrong or missing.
QUERIED = (S.pending, S.sent, S.timeout)


def fail(run: ReconciliationRun, error: str) -> None:
    run.status = RunStatus.failed
    run.error = error[:2000]
    run.finished_at = utcnow()
    log.error("reconciliation_failed", run_id=str(run.id), error=error[:500])


def note(run: ReconciliationRun, source: str, **values: Any) -> None:
    run.source_results = {
        **run.source_results,
        source: {**run.source_results.get(source, {}), **values},
    }


async def _relock(
    session: AsyncSession, *, run_id: uuid.UUID, checkpoint: dict[str, Any]
) -> ReconciliationRun | None:
    """The run again after the call, if nobody moved its checkpoint meanwhile."""
    run = await RunRepository.from_session(session).lock(run_id)
    if run is None or run.status != RunStatus.running or run.checkpoint != checkpoint:
        return None
    return run


async def stk_query_batch(
    session: AsyncSession, *, run: ReconciliationRun, daraja: DarajaClient, settings: Settings
) -> None:
    checkpoint = dict(run.checkpoint)
    after = checkpoint.get("after")
    payments = await LedgerPaymentRepository.from_session(session).in_window(
        start=run.window_start,
        end=run.window_end,
        statuses=list(QUERIED),
        after=(datetime.fromisoformat(after[0]), uuid.UUID(after[1])) if after else None,
        limit=settings.RECONCILIATION_BATCH_SIZE,
    )
    asks = [(p.checkout_request_id, p.amount) for p in payments if p.checkout_request_id]
    run_id = run.id
    await db.commit(session)
    answers = [
        (checkout, amount, await monitoring.query(daraja, checkout_request_id=checkout))
        for checkout, amount in asks
    ]
    locked = await _relock(session, run_id=run_id, checkpoint=checkpoint)
    if locked is None:
        return
    rows = [
        _stk_record(locked, checkout, amount, answer)
        for checkout, amount, answer in answers
        if isinstance(answer, StkQueryResult) and not answer.pending and answer.result_code
    ]
    await RecordRepository.from_session(session).add_many(rows)
    errors = [a for _, _, a in answers if isinstance(a, DarajaError)]
    results = locked.source_results.get(RecordSource.stk_query, {})
    note(
        locked,
        RecordSource.stk_query,
        asked=results.get("asked", 0) + len(answers),
        final=results.get("final", 0) + len(rows),
        errors=results.get("errors", 0) + len(errors),
    )
    if len(payments) < settings.RECONCILIATION_BATCH_SIZE:
        locked.checkpoint = {"phase": "next", "after": None}
    else:
        last = payments[-1]
        locked.checkpoint = {
            "phase": checkpoint.get("phase"),
            "after": [last.created_at.isoformat(), str(last.id)],
        }


def _stk_record(
    run: ReconciliationRun, checkout: str, amount: int, answer: StkQueryResult
) -> dict[str, Any]:
    paid = answer.result_code == "0"
    return {
        "source": RecordSource.stk_query,
        "receipt": None,
        "shortcode": run.shortcode,
        "status": "completed" if paid else "failed",
        "result_code": answer.result_code,
        # STK Query carries no amount: the push's own is what it proves.
        "amount": amount if paid else None,
        "phone_tail": None,
        "account_reference": None,
        "checkout_request_id": checkout,
        "completed_at": None,
        "run_id": run.id,
        "raw": answer.raw,
    }


async def pull_batch(
    session: AsyncSession, *, run: ReconciliationRun, daraja: DarajaClient, settings: Settings
) -> None:
    checkpoint = dict(run.checkpoint)
    offset = int(checkpoint.get("after") or 0)
    pages = run.source_results.get(RecordSource.pull, {}).get("pages", 0)
    if offset == 0 and run.window_start < utcnow() - PULL_WINDOW:
        fail(run, f"Pull keeps only the last 48 hours; the window starts at {run.window_start}")
        return
    if pages >= settings.RECONCILIATION_PULL_MAX_PAGES:
        fail(run, f"Pull gave more than {pages} pages (GATEWAY_RECONCILIATION_PULL_MAX_PAGES)")
        return
    run_id, start, end = run.id, run.window_start, run.window_end
    completed = 0
    if offset == 0:
        completed = await LedgerPaymentRepository.from_session(session).count_completed(
            start=start, end=end
        )
    await db.commit(session)
    try:
        if offset == 0 and settings.RECONCILIATION_PULL_NOMINATED_NUMBER:
            await daraja.register_pull(
                nominated_number=settings.RECONCILIATION_PULL_NOMINATED_NUMBER,
                callback_url=f"{settings.PUBLIC_BASE_URL}/v1/reconciliation/pull",
            )
        # Pull's dates are whole seconds and its end inclusive: round up, never cut money off
        # (what lies past the window is stored but not judged in it).
        whole = end + timedelta(microseconds=-end.microsecond % 1_000_000)
        page = await daraja.pull_transactions(start=start, end=whole, offset=offset)
    except DarajaError as e:
        if e.retryable:
            raise SourceUnavailable(f"Pull Transactions: {e}") from e
        locked = await _relock(session, run_id=run_id, checkpoint=checkpoint)
        if locked is not None:
            fail(locked, f"Pull Transactions refused: {e}")
        return
    locked = await _relock(session, run_id=run_id, checkpoint=checkpoint)
    if locked is not None:
        await _store_page(session, run=locked, page=page, offset=offset, completed=completed)


async def _store_page(
    session: AsyncSession,
    *,
    run: ReconciliationRun,
    page: PullTransactionsPage,
    offset: int,
    completed: int,
) -> None:
    results = run.source_results.get(RecordSource.pull, {})
    if page.response_code == PULL_NOTHING or (
        page.response_code == "1000" and not page.transactions
    ):
        if offset == 0 and completed:
            fail(
                run,
                f"Pull answered {page.response_code} ({page.response_message!r}) although "
                f"{completed} of our payments in the window completed: the shortcode is not "
                "provisioned (or not registered) for Pull Transactions",
            )
            return
        note(
            run,
            RecordSource.pull,
            status="no_data" if offset == 0 else "ok",
            code=page.response_code,
            message=page.response_message[:200],
        )
        run.checkpoint = {"phase": "next", "after": None}
        return
    if page.response_code != "1000":
        fail(run, f"Pull answered {page.response_code}: {page.response_message[:200]}")
        return
    rows = [_pull_record(run, t) for t in page.transactions]
    new = await RecordRepository.from_session(session).add_many(rows)
    note(
        run,
        RecordSource.pull,
        status="ok",
        pages=results.get("pages", 0) + 1,
        rows=results.get("rows", 0) + len(rows),
        new=results.get("new", 0) + new,
    )
    run.checkpoint = {
        "phase": run.checkpoint.get("phase"),
        "after": offset + len(page.transactions),
    }


def _pull_record(run: ReconciliationRun, row: PullTransaction) -> dict[str, Any]:
    amount = row.amount
    whole = amount is not None and amount == amount.to_integral_value()
    digits = "".join(c for c in (row.msisdn or "") if c.isdigit())
    return {
        "source": RecordSource.pull,
        "receipt": row.transaction_id[:32],
        "shortcode": run.shortcode,
        "status": "completed",
        "result_code": None,
        "amount": int(amount) if whole and amount is not None else None,
        "phone_tail": digits[-3:] if len(digits) >= 3 else None,
        "account_reference": (row.bill_reference or "")[:64] or None,
        "checkout_request_id": None,
        "completed_at": row.transaction_date,
        "run_id": None,
        "raw": {k: str(v) if isinstance(v, Decimal) else v for k, v in row.raw.items()},
    }
