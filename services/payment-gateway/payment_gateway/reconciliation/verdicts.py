"""Storing a verdict: the item (one per payment and per receipt in a run), the settlement it
calls for (through the payment lifecycle, source `reconciliation`), and the exception a person
must resolve."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import outcome_for
from payment_gateway.models import (
    SELF_SETTLING,
    Payment,
    ReconciliationException,
    ReconciliationItem,
    ReconciliationRun,
)
from payment_gateway.payment import lifecycle
from payment_gateway.reconciliation import matching
from payment_gateway.reconciliation.matching import Decision, Evidence
from payment_gateway.reconciliation.repository import ExceptionRepository, ItemRepository

log = structlog.get_logger(__name__)


async def record(
    session: AsyncSession,
    *,
    run: ReconciliationRun,
    decision: Decision,
    evidence: Evidence | None,
    settings: Settings,
    judged: set[uuid.UUID] | None = None,
    opened: list[tuple[ReconciliationItem, ReconciliationException]] | None = None,
) -> ReconciliationItem:
    """Store the verdict, apply it to the payment, and open an exception if a person must look.
    `judged`: the payments of the batch judged in this run so far (the receipts phase, where
    each receipt is judged once); without it, both are asked of the database. `opened`
    collects the exceptions to open for the whole batch (`open_exceptions`)."""
    item = await _item(session, run=run, decision=decision, evidence=evidence, judged=judged)
    await ItemRepository.from_session(session).create(item, flush=opened is None)
    target = decision.payment
    if target is not None and decision.settle_code is not None:
        await _settle(
            session,
            run=run,
            payment=target,
            decision=decision,
            evidence=evidence,
            settings=settings,
        )
    if decision.verdict not in SELF_SETTLING:
        subject = item.payment_id or item.related_payment_id
        exception = ReconciliationException(
            id=uuid.uuid4(),
            subject=f"{decision.verdict}:{evidence.receipt if evidence else subject}",
            run_id=run.id,
            verdict=decision.verdict,
            payment_id=subject,
            receipt=evidence.receipt if evidence is not None else None,
        )
        if opened is None:
            exception.item_id = item.id
            await ExceptionRepository.from_session(session).open_many([exception])
        else:
            opened.append((item, exception))
    return item


async def _item(
    session: AsyncSession,
    *,
    run: ReconciliationRun,
    decision: Decision,
    evidence: Evidence | None,
    judged: set[uuid.UUID] | None,
) -> ReconciliationItem:
    payment, related = decision.payment, decision.related
    items = ItemRepository.from_session(session)
    if payment is not None and (
        payment.id in judged
        if judged is not None
        else await items.judged_payments(run_id=run.id, payment_ids=[payment.id])
    ):
        # Judged already in this run (by another receipt): this verdict names it as related.
        payment, related = None, payment
    if payment is not None and judged is not None:
        judged.add(payment.id)
    subject = payment or related
    # A receipt judged already in this run (for another payment) keeps its one verdict.
    receipt = evidence.receipt if evidence is not None else None
    if judged is None and receipt and await items.has_receipt(run_id=run.id, receipt=receipt):
        receipt = None
    return ReconciliationItem(
        run_id=run.id,
        verdict=decision.verdict,
        payment_id=payment.id if payment is not None else None,
        related_payment_id=related.id if related is not None else None,
        receipt=receipt,
        record_id=evidence.record.id if evidence is not None else None,
        source=",".join(evidence.sources) if evidence is not None else None,
        amount=subject.amount if subject is not None else None,
        mpesa_amount=evidence.amount if evidence is not None else None,
        detail={
            **decision.detail,
            "note": decision.note,
            **({"payment_receipt": payment.receipt_number} if payment is not None else {}),
        },
    )


async def open_exceptions(
    session: AsyncSession, opened: list[tuple[ReconciliationItem, ReconciliationException]]
) -> None:
    """Open the batch's exceptions in one statement, once its verdicts have ids."""
    await session.flush()
    for item, exception in opened:
        exception.item_id = item.id
    exceptions = ExceptionRepository.from_session(session)
    # Bounded statements: PostgreSQL takes at most 32767 parameters in one.
    for start in range(0, len(opened), 1000):
        await exceptions.open_many([e for _, e in opened[start : start + 1000]])


async def _settle(
    session: AsyncSession,
    *,
    run: ReconciliationRun,
    payment: Payment,
    decision: Decision,
    evidence: Evidence | None,
    settings: Settings,
) -> None:
    assert decision.settle_code is not None
    paid = decision.settle_code == matching.PAID
    settlement = await lifecycle.settle(
        session,
        payment=payment,
        outcome=outcome_for(decision.settle_code),
        result_desc=f"reconciliation: {decision.note}"[:500] if decision.note else None,
        receipt=evidence.receipt if evidence is not None and paid else None,
        actor=lifecycle.RECONCILIATION,
        detail={
            "run_id": str(run.id),
            "verdict": decision.verdict.value,
            **({"sources": list(evidence.sources)} if evidence is not None else {}),
        },
        settings=settings,
    )
    log.info(
        "reconciliation_applied",
        run_id=str(run.id),
        payment_id=str(payment.id),
        verdict=decision.verdict.value,
        settlement=settlement,
    )
