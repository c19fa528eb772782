"""The verdicts: deterministic rules that judge one M-Pesa receipt, or one payment no receipt
spoke for, given what the run found. Pure functions; `runs.py` fetches and applies.

A receipt is judged against, in this order: the payment that already carries it; the payment
whose push it proves (a CheckoutRequestID, from Transaction Status or STK); open payments with
its shortcode, account reference and amount (the phone's last digits break a tie). A completed
payment is never downgraded: the worst it gets is an exception for a person.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from payment_gateway.models import MpesaRecord, Payment, PaymentStatus, RecordSource, Verdict
from payment_gateway.payment import state

S = PaymentStatus
V = Verdict
PAID = "0"

# Which source speaks for a receipt when several list it: the most detailed first.
SOURCE_PRIORITY = (
    RecordSource.transaction_status,
    RecordSource.c2b,
    RecordSource.statement,
    RecordSource.pull,
)
# Sources that list receipts; STK Query answers about a push and carries none.
RECEIPT_SOURCES = frozenset(SOURCE_PRIORITY)


@dataclass(frozen=True)
class Evidence:
    """One M-Pesa transaction, merged from every source that listed its receipt."""

    receipt: str
    record: MpesaRecord  # the source that speaks for it
    sources: tuple[str, ...]
    amount: int | None
    phone_tail: str | None
    account_reference: str | None
    checkout_request_id: str | None
    completed_at: datetime | None

    @classmethod
    def merge(cls, records: list[MpesaRecord]) -> Evidence:
        ordered = sorted(
            records, key=lambda r: (SOURCE_PRIORITY.index(RecordSource(r.source)), r.id)
        )
        first = ordered[0]

        def known(attribute: str) -> Any:
            return next(
                (getattr(r, attribute) for r in ordered if getattr(r, attribute) is not None), None
            )

        assert first.receipt is not None
        return cls(
            receipt=first.receipt,
            record=first,
            sources=tuple(sorted({r.source for r in ordered})),
            amount=first.amount if first.amount is not None else known("amount"),
            phone_tail=known("phone_tail"),
            account_reference=known("account_reference"),
            checkout_request_id=known("checkout_request_id"),
            completed_at=known("completed_at"),
        )


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    # The payment the verdict is about (one verdict per payment per run), settled on
    # `settle_code` ("0": paid) through the lifecycle when set.
    payment: Payment | None = None
    related: Payment | None = None
    settle_code: str | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Links:
    """What a receipt could belong to, looked up (and row-locked) by the run."""

    owner: Payment | None  # carries the receipt already
    pushed: Payment | None  # its push is the one the receipt proves
    by_reference: list[Payment]  # same account reference and amount, oldest first
    # Of those, the ones whose push STK Query answered "paid" in this run.
    proven: frozenset[uuid.UUID] = frozenset()


def judge_receipt(evidence: Evidence, links: Links) -> Decision:
    owner, pushed = links.owner, links.pushed
    if owner is not None and pushed is not None and owner.id != pushed.id:
        return Decision(
            V.duplicate_receipt,
            payment=pushed,
            related=owner,
            note=f"receipt {evidence.receipt} proves this push but is recorded on another payment",
        )
    target = owner or pushed
    if target is None:
        # STK Query proved this push paid, and this money has its reference and amount: it is
        # that push's receipt (the phone's last digits decide between several).
        proven = [p for p in links.by_reference if p.id in links.proven and not p.receipt_number]
        target = _tie_break(proven, evidence.phone_tail)
    if target is not None:
        return _judge_linked(evidence, target)
    return _judge_by_reference(evidence, links.by_reference)


def _judge_linked(evidence: Evidence, payment: Payment) -> Decision:
    if evidence.amount != payment.amount:
        shown = f"KES {evidence.amount}" if evidence.amount is not None else "no whole amount"
        return Decision(
            V.amount_mismatch,
            payment=payment,
            note=f"we asked KES {payment.amount}; M-Pesa shows {shown}",
        )
    # A refunded payment was paid too: M-Pesa still lists its receipt (the reversal is its own).
    if payment.status not in state.PAID:
        return Decision(
            V.settled_late,
            payment=payment,
            settle_code=PAID,
            note=f"M-Pesa shows receipt {evidence.receipt}; we had it {payment.status}",
        )
    if payment.receipt_number and payment.receipt_number != evidence.receipt:
        return Decision(
            V.paid_twice,
            related=payment,
            note=f"a second receipt for a payment already paid with {payment.receipt_number}",
        )
    # A payment completed on STK Query's word learns its receipt here.
    return Decision(
        V.matched, payment=payment, settle_code=PAID if payment.receipt_number is None else None
    )


def _judge_by_reference(evidence: Evidence, candidates: list[Payment]) -> Decision:
    """Money with no receipt or push on our side (paid by hand): an open payment with the same
    account reference and amount takes it; the phone's last digits break a tie."""
    unpaid = [p for p in candidates if p.receipt_number is None]
    chosen = _tie_break(unpaid, evidence.phone_tail)
    if chosen is not None:
        if chosen.status == S.completed:
            return Decision(V.matched, payment=chosen, settle_code=PAID)
        return Decision(
            V.matched_by_reference,
            payment=chosen,
            settle_code=PAID,
            note=f"paid by hand with account reference {evidence.account_reference}",
        )
    if len(unpaid) > 1:
        return Decision(
            V.unmatched_mpesa,
            note=f"{len(unpaid)} open payments have this account reference and amount",
            detail={"candidates": [str(p.id) for p in unpaid]},
        )
    paid = [p for p in candidates if p.status == S.completed]
    if paid:
        return Decision(
            V.paid_twice,
            related=paid[0],
            note=f"paid by hand although the payment was already paid ({paid[0].receipt_number})",
        )
    return Decision(V.unmatched_mpesa, note="no payment here matches this money")


def _tie_break(candidates: list[Payment], phone_tail: str | None) -> Payment | None:
    if len(candidates) == 1:
        return candidates[0]
    if phone_tail is None:
        return None
    same_phone = [p for p in candidates if p.phone.endswith(phone_tail)]
    return same_phone[0] if len(same_phone) == 1 else None


def judge_payment(
    payment: Payment,
    *,
    stk_answer: MpesaRecord | None,
    receipt_record: Evidence | None,
    earlier_paid: Payment | None,
) -> Decision:
    """A payment no receipt of the window spoke for."""
    if payment.status in state.PAID:
        if earlier_paid is not None:
            return Decision(
                V.paid_twice,
                payment=payment,
                related=earlier_paid,
                note=f"its payable was paid before by payment {earlier_paid.id}",
            )
        if receipt_record is not None:
            return _judge_linked(receipt_record, payment)
        if (
            payment.receipt_number is None
            and stk_answer is not None
            and stk_answer.result_code == "0"
        ):
            return Decision(V.matched, payment=payment, note="proven by STK Query, no receipt")
        return Decision(
            V.missing_in_mpesa,
            payment=payment,
            note=f"we say completed ({payment.receipt_number or 'no receipt'}); "
            "no source of this run lists it",
        )
    if receipt_record is not None:
        # Transaction Status found the receipt of its push.
        return _judge_linked(receipt_record, payment)
    if stk_answer is not None and stk_answer.result_code == "0":
        return Decision(
            V.settled_late,
            payment=payment,
            settle_code=PAID,
            note=f"STK Query says paid; we had it {payment.status}",
        )
    # We say no money moved and M-Pesa shows none: they agree. An open payment whose push
    # STK Query answered with a failure settles on it (a failure moves no money).
    failure = stk_answer.result_code if stk_answer is not None else None
    settles = failure is not None and payment.status in (S.pending, S.sent)
    return Decision(V.matched, payment=payment, settle_code=failure if settles else None)
