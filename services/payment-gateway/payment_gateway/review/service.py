"""Staff review of payments held for review (a proven success whose amount or phone did not
match what was asked): accept credits the payment on the held callback's receipt, reject fails
it so its payable can be paid again. Each decision is a timeline entry with the person and their
note, followed by the status change every subscriber hears about."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.audit import service as audit
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import outcome_for
from payment_gateway.models import Payment, PaymentStatus
from payment_gateway.payment import lifecycle, messages
from payment_gateway.payment.exceptions import PaymentNotFound
from payment_gateway.payment.repository import PaymentRepository
from payment_gateway.review.exceptions import NotHeldForReview, ReceiptTaken
from payment_gateway.review.repository import ReviewRepository
from payment_gateway.review.schemas import Decision

log = structlog.get_logger(__name__)

S = PaymentStatus
REJECTED = "rejected_in_review"


async def decide(
    session: AsyncSession,
    *,
    payment_id: uuid.UUID,
    decision: Decision,
    note: str,
    actor: lifecycle.Actor,
    settings: Settings,
) -> Payment:
    payments = PaymentRepository.from_session(session)
    payment = await payments.lock(payment_id)
    if payment is None:
        raise PaymentNotFound(f"no payment {payment_id}")
    if payment.review_reason is None:
        raise NotHeldForReview(
            f"payment {payment.id} is {payment.status} and not held for review; "
            "only a held payment can be accepted or rejected"
        )
    evidence = await ReviewRepository.from_session(session).hold_evidence(payment.id)
    held_for = payment.review_reason
    detail = {**actor.detail(), "review_reason": held_for, "decision": decision.value}
    if decision is Decision.accept:
        await _accept(
            session,
            payments=payments,
            payment=payment,
            evidence=evidence,
            note=note,
            actor=actor,
            detail=detail,
            settings=settings,
        )
    else:
        await _reject(
            session, payment=payment, note=note, actor=actor, detail=detail, settings=settings
        )
    # The note is staff's free text (it may name the customer): the timeline keeps it, the
    # audit trail, which erasure cannot touch, does not.
    await audit.record(
        session,
        action="payment.reviewed",
        actor=actor.name,
        subject=f"payment:{payment.id}",
        details={
            "decision": decision.value,
            "review_reason": held_for,
            "status": payment.status,
            "via": actor.via,
        },
    )
    log.info(
        "payment_reviewed",
        payment_id=str(payment.id),
        decision=decision.value,
        review_reason=held_for,
        status=payment.status,
    )
    return payment


async def _accept(
    session: AsyncSession,
    *,
    payments: PaymentRepository,
    payment: Payment,
    evidence: dict[str, object],
    note: str,
    actor: lifecycle.Actor,
    detail: dict[str, object],
    settings: Settings,
) -> None:
    receipt = evidence.get("receipt_number")
    receipt = receipt if isinstance(receipt, str) and receipt else None
    if receipt is not None:
        owners = await payments.other_owners(
            payment_id=payment.id,
            receipt_number=receipt,
            # Only the receipt matters here; a push id no payment has.
            checkout_request_id=payment.checkout_request_id or "",
        )
        if owners.receipt is not None:
            raise ReceiptTaken(
                f"receipt {receipt} is already recorded on payment {owners.receipt}; "
                "reject this one instead"
            )
    await lifecycle.note(
        session,
        payment=payment,
        reason="review_accepted",
        actor=actor,
        detail={**detail, "receipt_number": receipt},
        text=note,
    )
    # Settled like any proof of payment: a pending push is recorded as sent on the way, and a
    # payment that had failed meanwhile becomes a late success. The hold is released there.
    await lifecycle.settle(
        session,
        payment=payment,
        outcome=outcome_for("0"),
        result_desc=f"Accepted in review by {actor.name}",
        receipt=receipt,
        actor=actor,
        detail=detail,
        settings=settings,
    )


async def _reject(
    session: AsyncSession,
    *,
    payment: Payment,
    note: str,
    actor: lifecycle.Actor,
    detail: dict[str, object],
    settings: Settings,
) -> None:
    await lifecycle.note(
        session, payment=payment, reason="review_rejected", actor=actor, detail=detail, text=note
    )
    payment.review_reason = None
    if payment.status not in (S.pending, S.sent):
        # Failed, cancelled or timed out meanwhile: the payable is free already.
        return
    await lifecycle.transition(
        session,
        payment=payment,
        to=S.failed,
        actor=actor,
        reason=REJECTED,
        result_desc=f"Rejected in review by {actor.name}",
        customer_message=messages.REJECTED_IN_REVIEW,
        detail=detail,
        note=note,
        settings=settings,
    )
