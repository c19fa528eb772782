"""Running a reconciliation: one batch per unit of work, each judging receipts (then payments)
past the run's checkpoint, applying what it decided through the payment lifecycle, and moving
the checkpoint in the same transaction. A run killed mid-way resumes after its last committed
batch; the unique verdict keys and the lifecycle's own rules make a repeat a no-op.

Phases: `receipts` (every receipt M-Pesa lists in the window), `payments` (every payment of the
window no receipt spoke for), then `finish` (the summary). Sources that must be asked first
(STK Query, Pull, Transaction Status) run before, in `collect.py`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import DarajaClient
from payment_gateway.models import (
    SELF_SETTLING,
    Payment,
    PaymentStatus,
    ReconciliationException,
    ReconciliationItem,
    ReconciliationRun,
    RecordSource,
    RunStatus,
)
from payment_gateway.outbox import service as outbox_service
from payment_gateway.payment import state
from payment_gateway.reconciliation import collect, links, matching, status, verdicts
from payment_gateway.reconciliation.inbox_repository import StatusQueryRepository
from payment_gateway.reconciliation.ledger_repository import LedgerPaymentRepository
from payment_gateway.reconciliation.matching import Decision, Evidence
from payment_gateway.reconciliation.repository import (
    ItemRepository,
    RecordRepository,
    RunRepository,
)
from shared.db import utcnow

log = structlog.get_logger(__name__)

S = PaymentStatus
V = matching.V
COMPLETED_EVENT = "reconciliation.completed"
STATUS_WAIT = "transaction_status_wait"
# Completed payments Transaction Status was asked about and never answered: no verdict (their
# absence from M-Pesa's answers proves nothing), counted in the summary under this key.
PENDING = "pending_verification"
# Sources asked during the run, in order, before the judging phases.
ASKING: dict[str, tuple[str, ...]] = {
    RecordSource.stk_query: (RecordSource.stk_query,),
    RecordSource.transaction_status: (RecordSource.transaction_status, STATUS_WAIT),
    RecordSource.pull: (RecordSource.pull,),
}
JUDGING = ("plain_receipts", "receipts", "payments", "carried", "finish")


def phases(run: ReconciliationRun) -> list[str]:
    asking = [p for source, steps in ASKING.items() if source in run.sources for p in steps]
    return [*asking, *JUDGING]


ASK = {
    RecordSource.stk_query: collect.stk_query_batch,
    RecordSource.pull: collect.pull_batch,
    RecordSource.transaction_status: status.ask_batch,
    STATUS_WAIT: status.wait,
}


def receipt_sources(run: ReconciliationRun) -> list[str]:
    return [s for s in run.sources if s in matching.RECEIPT_SOURCES]


async def advance(
    session: AsyncSession,
    *,
    run_id: uuid.UUID,
    settings: Settings,
    daraja: DarajaClient | None = None,
) -> str:
    """Take the run's next step (ask a source, judge a batch, or finish) and return its status;
    a finished run is left as it is. Holds the run's row lock while judging: two workers on
    one run take turns. Raises `SourceUnavailable` when a source must be asked again later."""
    run = await RunRepository.from_session(session).lock(run_id)
    if run is None or run.status in (RunStatus.completed, RunStatus.failed):
        return run.status if run is not None else RunStatus.failed
    if run.status == RunStatus.queued:
        run.status = RunStatus.running
        run.started_at = utcnow()
        _move(run, phase=phases(run)[0], after=None)
    phase = run.checkpoint["phase"]
    if phase not in JUDGING:
        if daraja is None:
            collect.fail(run, f"the {phase} source needs Daraja, and this process has no client")
        else:
            await ASK[phase](session, run=run, daraja=daraja, settings=settings)
        # What the batch stored must not be overwritten by reading the row back.
        await session.flush()
        run = await RunRepository.from_session(session).lock(run_id)
        assert run is not None
        if run.checkpoint.get("phase") == "next":
            order = phases(run)
            _move(run, phase=order[order.index(phase) + 1], after=None)
    elif phase == "plain_receipts":
        await _plain_receipts(session, run=run, settings=settings)
    elif phase == "receipts":
        await _receipts_batch(session, run=run, settings=settings)
    elif phase == "payments":
        await _payments_batch(session, run=run, settings=settings)
    elif phase == "carried":
        await _carried_batch(session, run=run, settings=settings)
    else:
        await _finish(session, run=run, settings=settings)
    run.updated_at = utcnow()
    await session.flush()
    return run.status


async def give_up(session: AsyncSession, *, run_id: uuid.UUID, error: str) -> str:
    """End an unfinished run `failed` with the reason (its source stayed unavailable); its
    checkpoint stays, so asking for its window again resumes it where it stopped."""
    run = await RunRepository.from_session(session).lock(run_id)
    if run is None:
        return RunStatus.failed
    if run.status in (RunStatus.queued, RunStatus.running):
        collect.fail(run, error)
        run.updated_at = utcnow()
        await session.flush()
    return run.status


def _move(run: ReconciliationRun, *, phase: str, after: Any) -> None:
    # A new dict: SQLAlchemy notices an assignment, not a change inside the old one.
    run.checkpoint = {"phase": phase, "after": after}


async def _plain_receipts(
    session: AsyncSession, *, run: ReconciliationRun, settings: Settings
) -> None:
    """Judge the window's receipts whose verdict is a lookup in one statement (set-based: a
    million statement lines take seconds, not a batch loop); the rest go through the rules
    batch by batch next. One transaction with its checkpoint: done once or not at all.

    The judging statement reads payments without locking them, so the payments that could be
    settled with one of these receipts meanwhile (unpaid, created within the reference lookback)
    are locked first: a settlement already under way is waited for and then seen by the
    judging statement's own snapshot, and one that starts later waits for this verdict. A
    receipt is never judged `unmatched_mpesa` while its payment is being settled."""
    sources = receipt_sources(run)
    if sources:
        lookback = timedelta(hours=settings.RECONCILIATION_REFERENCE_LOOKBACK_H)
        await LedgerPaymentRepository.from_session(session).lock_settleable(
            since=run.window_start + links.CLOCK_SLACK - lookback,
            until=run.window_end + links.CLOCK_SLACK,
            unpaid=[s for s in S if s not in state.PAID],
        )
        judged, opened = await ItemRepository.from_session(session).judge_plain_receipts(
            run_id=run.id,
            sources=sources,
            priority=[str(s) for s in matching.SOURCE_PRIORITY],
            shortcode=run.shortcode,
            start=run.window_start,
            end=run.window_end,
            slack=links.CLOCK_SLACK,
            lookback=lookback,
        )
        log.info("reconciliation_plain_receipts", run_id=str(run.id), judged=judged, opened=opened)
    _move(run, phase="receipts", after=None)


async def _receipts_batch(
    session: AsyncSession, *, run: ReconciliationRun, settings: Settings
) -> None:
    records = RecordRepository.from_session(session)
    sources = receipt_sources(run)
    receipts = await records.receipts_in_window(
        run_id=run.id,
        sources=sources,
        shortcode=run.shortcode,
        start=run.window_start,
        end=run.window_end,
        after=run.checkpoint.get("after"),
        limit=settings.RECONCILIATION_BATCH_SIZE,
    )
    grouped = defaultdict(list)
    for record in await records.by_receipts(receipts, sources=sources):
        grouped[record.receipt].append(record)
    evidences = [Evidence.merge(grouped[receipt]) for receipt in receipts]
    found = await links.prefetch(session, evidences=evidences, run=run, settings=settings)
    opened: list[tuple[ReconciliationItem, ReconciliationException]] = []
    for evidence in evidences:
        linked = found.links(evidence, run=run, settings=settings)
        decision = await _paid_before(session, matching.judge_receipt(evidence, linked))
        await verdicts.record(
            session,
            run=run,
            decision=decision,
            evidence=evidence,
            settings=settings,
            judged=found.judged,
            opened=opened,
        )
    await verdicts.open_exceptions(session, opened)
    if len(receipts) < settings.RECONCILIATION_BATCH_SIZE:
        _move(run, phase="payments", after=None)
    else:
        _move(run, phase="receipts", after=receipts[-1])


async def _paid_before(session: AsyncSession, decision: Decision) -> Decision:
    """A completed payment whose payable was paid by an earlier payment: paid twice."""
    payment = decision.payment
    if decision.verdict != V.matched or payment is None or payment.status != S.completed:
        return decision
    earlier = await LedgerPaymentRepository.from_session(session).earlier_paid_for_payable(payment)
    if earlier is None:
        return decision
    return Decision(
        V.paid_twice,
        payment=payment,
        related=earlier,
        settle_code=decision.settle_code,
        note=f"its payable was paid before by payment {earlier.id}",
    )


async def _payments_batch(
    session: AsyncSession, *, run: ReconciliationRun, settings: Settings
) -> None:
    after = run.checkpoint.get("after")
    cursor = (datetime.fromisoformat(after[0]), uuid.UUID(after[1])) if after else None
    sources = receipt_sources(run)
    # Without a source that lists receipts, a completed payment cannot be checked at all.
    statuses = list(S) if sources else [s for s in S if s not in state.PAID]
    payments = await LedgerPaymentRepository.from_session(session).in_window(
        start=run.window_start,
        end=run.window_end,
        statuses=statuses,
        after=cursor,
        limit=settings.RECONCILIATION_BATCH_SIZE,
    )
    await _judge_payments(session, run=run, payments=payments, settings=settings)
    if len(payments) < settings.RECONCILIATION_BATCH_SIZE:
        _move(run, phase="carried", after=None)
    else:
        last = payments[-1]
        _move(run, phase="payments", after=[last.created_at.isoformat(), str(last.id)])


async def _judge_payments(
    session: AsyncSession, *, run: ReconciliationRun, payments: list[Payment], settings: Settings
) -> None:
    """Judge a batch of payments no receipt of the run spoke for (each once per run)."""
    sources = receipt_sources(run)
    records = RecordRepository.from_session(session)
    judged = await ItemRepository.from_session(session).judged_payments(
        run_id=run.id, payment_ids=[p.id for p in payments]
    )
    stk = {
        r.checkout_request_id: r
        for r in await records.stk_answers(
            run_id=run.id,
            checkout_ids=[p.checkout_request_id for p in payments if p.checkout_request_id],
        )
    }
    by_receipt = defaultdict(list)
    for record in await records.by_receipts(
        [p.receipt_number for p in payments if p.receipt_number], sources=sources
    ):
        by_receipt[record.receipt].append(record)
    checkouts = [p.checkout_request_id for p in payments if p.checkout_request_id]
    for record in await records.by_checkouts(checkouts, sources=sources):
        by_receipt[record.checkout_request_id].append(record)
    unanswered: set[uuid.UUID] = set()
    if RecordSource.transaction_status in run.sources:
        unanswered = await StatusQueryRepository.from_session(session).unanswered(
            run_id=run.id, payment_ids=[p.id for p in payments]
        )
    unverified = 0
    for payment in payments:
        if payment.id in judged:
            continue
        unverified += not await _judge_one_payment(
            session,
            run=run,
            payment_id=payment.id,
            stk=stk,
            by_receipt=by_receipt,
            unanswered=unanswered,
            settings=settings,
        )
    if unverified:
        results = run.source_results.get(RecordSource.transaction_status, {})
        collect.note(
            run,
            RecordSource.transaction_status,
            **{PENDING: results.get(PENDING, 0) + unverified},
        )


async def _carried_batch(
    session: AsyncSession, *, run: ReconciliationRun, settings: Settings
) -> None:
    """The payments of earlier windows this run asked Transaction Status about again (left
    pending verification before), judged as the window's own are."""
    after = run.checkpoint.get("after")
    payments: list[Payment] = []
    if RecordSource.transaction_status in run.sources:
        payments = await LedgerPaymentRepository.from_session(session).asked_outside(
            run_id=run.id,
            start=run.window_start,
            end=run.window_end,
            after=(datetime.fromisoformat(after[0]), uuid.UUID(after[1])) if after else None,
            limit=settings.RECONCILIATION_BATCH_SIZE,
        )
    if payments:
        await _judge_payments(session, run=run, payments=payments, settings=settings)
    if len(payments) < settings.RECONCILIATION_BATCH_SIZE:
        _move(run, phase="finish", after=None)
    else:
        last = payments[-1]
        _move(run, phase="carried", after=[last.created_at.isoformat(), str(last.id)])


async def _judge_one_payment(
    session: AsyncSession,
    *,
    run: ReconciliationRun,
    payment_id: uuid.UUID,
    stk: dict[str | None, Any],
    by_receipt: dict[str | None, list[Any]],
    unanswered: set[uuid.UUID],
    settings: Settings,
) -> bool:
    """Judge one payment; False when it is left pending verification (no verdict)."""
    repository = LedgerPaymentRepository.from_session(session)
    locked = await repository.lock_where(Payment.id == payment_id)
    if not locked:
        return True
    payment = locked[0]
    # Its own receipt's records, else a receipt that proves its push (by CheckoutRequestID).
    key = payment.receipt_number or payment.checkout_request_id
    found = by_receipt.get(key) if key else None
    earlier = None
    if payment.status == S.completed:
        earlier = await repository.earlier_paid_for_payable(payment)
    evidence = Evidence.merge(found) if found else None
    decision = matching.judge_payment(
        payment,
        stk_answer=stk.get(payment.checkout_request_id),
        receipt_record=evidence,
        earlier_paid=earlier,
    )
    if decision.verdict == V.missing_in_mpesa and payment.id in unanswered:
        # Transaction Status was asked and never answered (a queue timeout is no answer): the
        # absence proves nothing. No verdict: it stays pending verification, asked again by
        # the next run with Transaction Status.
        log.info(
            "reconciliation_pending_verification", run_id=str(run.id), payment_id=str(payment.id)
        )
        return False
    await verdicts.record(session, run=run, decision=decision, evidence=evidence, settings=settings)
    return True


async def _finish(session: AsyncSession, *, run: ReconciliationRun, settings: Settings) -> None:
    counts = await ItemRepository.from_session(session).counts(run.id)
    verdict_counts = {verdict.value: counts.get(verdict.value, 0) for verdict in V}
    open_exceptions = sum(
        count for verdict, count in verdict_counts.items() if verdict not in SELF_SETTLING
    )
    pending = run.source_results.get(RecordSource.transaction_status, {}).get(PENDING, 0)
    run.summary = {**verdict_counts, PENDING: pending}
    run.status = RunStatus.completed
    run.finished_at = utcnow()
    _move(run, phase="done", after=None)
    await outbox_service.publish_notice(
        session,
        event_type=COMPLETED_EVENT,
        data={
            "id": str(run.id),
            "shortcode": run.shortcode,
            "from": run.window_start.isoformat(),
            "to": run.window_end.isoformat(),
            "sources": run.sources,
            "summary": run.summary,
            "open_exceptions": open_exceptions,
        },
        settings=settings,
    )
    log.info("reconciliation_completed", run_id=str(run.id), **run.summary)
