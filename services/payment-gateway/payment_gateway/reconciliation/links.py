"""What a batch of receipts could belong to: the payment carrying each receipt, the push it
proves, open payments with its account reference and amount, and which of those STK Query
proved paid in this run, looked up (and row-locked) in a few queries for the whole batch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.models import Payment, ReconciliationRun
from payment_gateway.reconciliation import matching
from payment_gateway.reconciliation.ledger_repository import LedgerPaymentRepository
from payment_gateway.reconciliation.matching import Evidence, Links
from payment_gateway.reconciliation.repository import ItemRepository, RecordRepository

# M-Pesa's times are whole seconds on M-Pesa's clock.
CLOCK_SLACK = timedelta(minutes=5)


@dataclass
class Prefetched:
    """What a batch of receipts could belong to, looked up (and row-locked) in a few queries;
    settling a payment changes these same objects, so later receipts of the batch see it."""

    owners: dict[str, Payment]
    pushed: dict[str, Payment]
    by_reference: list[Payment]
    proven: frozenset[uuid.UUID]
    judged: set[uuid.UUID]

    def links(self, evidence: Evidence, *, run: ReconciliationRun, settings: Settings) -> Links:
        owner = self.owners.get(evidence.receipt)
        pushed = self.pushed.get(evidence.checkout_request_id or "")
        candidates: list[Payment] = []
        if owner is None and pushed is None and evidence.account_reference and evidence.amount:
            since, until = reference_window(evidence, run=run, settings=settings)
            reference = evidence.account_reference.upper()
            candidates = [
                p
                for p in self.by_reference
                if p.account_reference.upper() == reference
                and p.amount == evidence.amount
                and since <= p.created_at <= until
            ]
        proven = frozenset(p.id for p in candidates if p.id in self.proven)
        return Links(owner=owner, pushed=pushed, by_reference=candidates, proven=proven)


def reference_window(
    evidence: Evidence, *, run: ReconciliationRun, settings: Settings
) -> tuple[datetime, datetime]:
    # M-Pesa's times are whole seconds on M-Pesa's clock: allow for both.
    until = (evidence.completed_at or run.window_end) + CLOCK_SLACK
    return until - timedelta(hours=settings.RECONCILIATION_REFERENCE_LOOKBACK_H), until


async def prefetch(
    session: AsyncSession,
    *,
    evidences: list[Evidence],
    run: ReconciliationRun,
    settings: Settings,
) -> Prefetched:
    payments = LedgerPaymentRepository.from_session(session)
    owners = {
        p.receipt_number: p
        for p in await payments.by_receipts([e.receipt for e in evidences])
        if p.receipt_number
    }
    checkouts = [e.checkout_request_id for e in evidences if e.checkout_request_id]
    pushed = {
        p.checkout_request_id: p
        for p in await payments.by_checkouts(checkouts)
        if p.checkout_request_id
    }
    wanted = [
        e
        for e in evidences
        if e.account_reference
        and e.amount
        and e.receipt not in owners
        and (e.checkout_request_id or "") not in pushed
    ]
    candidates: list[Payment] = []
    if wanted:
        windows = [reference_window(e, run=run, settings=settings) for e in wanted]
        pairs = sorted({(str(e.account_reference).upper(), int(e.amount or 0)) for e in wanted})
        candidates = await payments.by_references(
            pairs, since=min(w[0] for w in windows), until=max(w[1] for w in windows)
        )
    answers = await RecordRepository.from_session(session).stk_answers(
        run_id=run.id,
        checkout_ids=[p.checkout_request_id for p in candidates if p.checkout_request_id],
    )
    paid = {a.checkout_request_id for a in answers if a.result_code == matching.PAID}
    linked = [*owners.values(), *pushed.values(), *candidates]
    judged = await ItemRepository.from_session(session).judged_payments(
        run_id=run.id, payment_ids=[p.id for p in linked]
    )
    return Prefetched(
        owners=owners,
        pushed=pushed,
        by_reference=candidates,
        proven=frozenset(p.id for p in candidates if p.checkout_request_id in paid),
        judged=judged,
    )
