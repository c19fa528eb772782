"""The payment lifecycle: the one place a status changes (`transition`), how Daraja's final
answers settle a payment (`settle`), holds for review, and the timeline every change is written to.

The rules (README "State machine"): `completed` is never left; a failure after a failure is kept
as a contradiction; proof of payment always wins, even after a failure (a late success). Callers
pass a payment they locked (`PaymentRepository.lock`); nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway import metrics
from payment_gateway.audit import service as audit
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import Outcome
from payment_gateway.models import EventSource, Payment, PaymentEvent, PaymentStatus
from payment_gateway.outbox import service as outbox_service
from payment_gateway.payment import messages, state
from payment_gateway.payment.repository import PaymentEventRepository
from shared.db import utcnow

log = structlog.get_logger(__name__)

S = PaymentStatus

LATE_SUCCESS = "late_success"

Settlement = Literal["applied", "duplicate", "contradiction", "ignored"]


@dataclass(frozen=True)
class Actor:
    """Who causes a change: recorded on the timeline. A person acting through a service (staff
    in the console) also has their user id and the service they came through."""

    source: EventSource
    name: str
    user_id: str | None = None
    via: str | None = None

    def detail(self) -> dict[str, Any]:
        """What the timeline keeps about a person acting, beside the actor name."""
        if self.user_id is None:
            return {}
        return {"acting_user_id": self.user_id, "via": self.via}


SYSTEM = Actor(EventSource.system, "gateway-worker")
POLLER = Actor(EventSource.query, "gateway-worker")
CALLBACK = Actor(EventSource.callback, "daraja")
RECONCILIATION = Actor(EventSource.reconciliation, "reconciliation")


async def settle(
    session: AsyncSession,
    *,
    payment: Payment,
    outcome: Outcome,
    result_desc: str | None,
    receipt: str | None,
    actor: Actor,
    detail: dict[str, Any],
    settings: Settings,
) -> Settlement:
    """Apply a final answer from Daraja to a locked payment. `completed` is never left; a
    failure after a failure is kept as a contradiction; proof of payment always wins."""
    if outcome.status == "pending":
        return "ignored"
    target = PaymentStatus(outcome.status)
    already = await _settled_before(
        session,
        payment=payment,
        target=target,
        outcome=outcome,
        receipt=receipt,
        actor=actor,
        detail=detail,
        settings=settings,
    )
    if already is not None:
        return already
    await _infer_sent(session, payment=payment, actor=actor, settings=settings)
    await _release_hold(session, payment=payment, actor=actor, detail=detail)
    paid = target == S.completed
    await transition(
        session,
        payment=payment,
        to=target,
        actor=actor,
        reason=None if paid else outcome.reason,
        result_code=(outcome.result_code or "0") if paid else outcome.result_code,
        result_desc=result_desc,
        receipt=receipt if paid else None,
        customer_message=messages.paid(receipt) if paid else messages.for_reason(outcome.reason),
        detail=detail,
        settings=settings,
    )
    return "applied"


async def _infer_sent(
    session: AsyncSession, *, payment: Payment, actor: Actor, settings: Settings
) -> None:
    """Daraja accepted a push whose answer we never got: the callback or query proves it."""
    if payment.status != S.pending:
        return
    payment.pushed_at = payment.pushed_at or utcnow()
    await transition(
        session,
        payment=payment,
        to=S.sent,
        actor=actor,
        customer_message=messages.sent(payment.amount),
        detail={"inferred": True},
        settings=settings,
    )


async def _release_hold(
    session: AsyncSession, *, payment: Payment, actor: Actor, detail: dict[str, Any]
) -> None:
    """Daraja's final answer is the proof a hold waited for; what caused the hold stays on the
    timeline."""
    if payment.review_reason is None:
        return
    held_for = payment.review_reason
    payment.review_reason = None
    await note(
        session,
        payment=payment,
        reason="hold_released",
        actor=actor,
        detail={**detail, "review_reason": held_for},
    )


async def _settled_before(
    session: AsyncSession,
    *,
    payment: Payment,
    target: PaymentStatus,
    outcome: Outcome,
    receipt: str | None,
    actor: Actor,
    detail: dict[str, Any],
    settings: Settings,
) -> Settlement | None:
    """What a final answer does to a payment that is final already; None when it is open, or
    failed and now proven paid (a late success, applied as a transition)."""
    current = PaymentStatus(payment.status)
    contradiction = {**detail, "says": outcome.result_code, "receipt_number": receipt}
    if current in state.PAID:
        if target != S.completed or (
            receipt and payment.receipt_number and receipt != payment.receipt_number
        ):
            await note(
                session,
                payment=payment,
                reason="contradiction_ignored",
                actor=actor,
                detail=contradiction,
            )
            return "contradiction"
        if receipt and not payment.receipt_number:
            await _record_receipt(
                session,
                payment=payment,
                receipt=receipt,
                actor=actor,
                detail=detail,
                settings=settings,
            )
            return "applied"
        return "duplicate"
    if current not in state.FINAL_FAILURES or target == S.completed:
        return None
    if target == current:
        return "duplicate"
    await note(
        session, payment=payment, reason="contradiction_ignored", actor=actor, detail=contradiction
    )
    return "contradiction"


async def _record_receipt(
    session: AsyncSession,
    *,
    payment: Payment,
    receipt: str,
    actor: Actor,
    detail: dict[str, Any],
    settings: Settings,
) -> None:
    """A payment settled by a query (which carries no receipt) learns its receipt; subscribers
    get it as a newer `payment.completed`."""
    payment.receipt_number = receipt
    payment.customer_message = messages.paid(receipt)
    payment.updated_at = utcnow()
    payment.sequence += 1
    await note(session, payment=payment, reason="receipt_recorded", actor=actor, detail=detail)
    await outbox_service.publish(session, payment=payment, settings=settings)


async def transition(
    session: AsyncSession,
    *,
    payment: Payment,
    to: PaymentStatus,
    actor: Actor,
    customer_message: str,
    settings: Settings,
    reason: str | None = None,
    result_code: str | None = None,
    result_desc: str | None = None,
    receipt: str | None = None,
    detail: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """The one place a payment's status changes: checked against the lifecycle, appended to the
    timeline, published to subscribers, counted."""
    state.check_transition(payment.status, to)
    now = utcnow()
    from_status = payment.status
    # Proof found by reconciliation is late by definition: every callback and poll missed it.
    late_proof = to == S.completed and actor.source == EventSource.reconciliation
    if state.is_late_success(from_status, to) or late_proof:
        reason = LATE_SUCCESS
        metrics.LATE_SUCCESSES.inc()
        log.warning("late_success", payment_id=str(payment.id), previous=from_status)
    payment.status = to
    payment.sequence += 1
    payment.reason = reason
    payment.customer_message = customer_message
    payment.updated_at = now
    if result_code is not None:
        payment.result_code = result_code
    if result_desc is not None:
        payment.result_desc = result_desc
    if receipt is not None:
        payment.receipt_number = receipt
    if to not in (S.pending, S.sent) and to not in state.PAID - {S.completed}:
        payment.settled_at = now
        payment.next_check_at = None
    await PaymentEventRepository.from_session(session).create(
        PaymentEvent(
            payment_id=payment.id,
            from_status=from_status,
            to_status=to,
            reason=reason,
            source=actor.source,
            actor=actor.name,
            detail={**(detail or {}), **({"result_code": result_code} if result_code else {})},
            note=note,
            at=now,
        )
    )
    await audit.record(
        session,
        action="payment.status_changed",
        actor=actor.name,
        subject=f"payment:{payment.id}",
        details={
            "from": from_status,
            "to": to,
            "reason": reason,
            "source": actor.source,
            "result_code": result_code,
        },
    )
    await outbox_service.publish(session, payment=payment, settings=settings)
    metrics.TRANSITIONS.labels(to, actor.source).inc()


async def hold(
    session: AsyncSession,
    *,
    payment: Payment,
    review_reason: str,
    actor: Actor,
    detail: dict[str, Any],
) -> None:
    """Stop crediting or monitoring a payment whose evidence disagrees with what was asked."""
    payment.review_reason = review_reason
    payment.next_check_at = None
    payment.updated_at = utcnow()
    await note(session, payment=payment, reason=f"held_{review_reason}", actor=actor, detail=detail)
    log.warning("payment_held_for_review", payment_id=str(payment.id), reason=review_reason)


async def note(
    session: AsyncSession,
    *,
    payment: Payment,
    reason: str,
    actor: Actor,
    detail: dict[str, Any],
    text: str | None = None,
) -> None:
    """A timeline entry that is not a status change (`text`: a person's note)."""
    await PaymentEventRepository.from_session(session).create(
        PaymentEvent(
            payment_id=payment.id,
            from_status=payment.status,
            to_status=payment.status,
            reason=reason,
            source=actor.source,
            actor=actor.name,
            detail=detail,
            note=text,
            at=utcnow(),
        )
    )
