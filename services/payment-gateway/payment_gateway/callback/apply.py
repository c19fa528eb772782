"""Applying one stored callback to its locked payment: each rule decides what is believed, and
every settlement goes through `_settle`, the one path from a callback to the payment lifecycle."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.callback import proof
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import StkCallback, outcome_for
from payment_gateway.models import (
    CallbackInbox,
    CallbackOutcome,
    CallbackVerdict,
    Payment,
    PaymentStatus,
)
from payment_gateway.payment import lifecycle, state

log = structlog.get_logger(__name__)

Out = CallbackOutcome
V = CallbackVerdict
S = PaymentStatus


class ConfirmationPending(Exception):
    """Daraja cannot tell yet; processing is to be tried again later."""


@dataclass(frozen=True)
class Result:
    outcome: CallbackOutcome
    verdict: CallbackVerdict | None
    note: str | None = None


@dataclass(frozen=True)
class Credit:
    """A decision to settle the payment on the final answer `code` (None: the payment is no
    longer open to it, nothing settles). With a `note`, the callback itself was not believed
    (Daraja's own answer settles the payment) and the note goes on the timeline."""

    code: str | None
    verdict: CallbackVerdict | None
    actor: lifecycle.Actor
    receipt: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    result_desc: str | None = None
    note: str | None = None


async def apply(
    session: AsyncSession,
    *,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    plan: proof.Plan,
    confirmation: proof.Confirmation | None,
    final_attempt: bool,
    settings: Settings,
) -> Result:
    decision = await _decide(
        session,
        inbox=inbox,
        payment=payment,
        callback=callback,
        plan=plan,
        confirmation=confirmation,
        final_attempt=final_attempt,
    )
    if isinstance(decision, Result):
        return decision
    return await _settle(
        session, inbox=inbox, payment=payment, callback=callback, credit=decision, settings=settings
    )


async def _decide(
    session: AsyncSession,
    *,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    plan: proof.Plan,
    confirmation: proof.Confirmation | None,
    final_attempt: bool,
) -> Result | Credit:
    if plan.stop is not None:
        return await _stopped(session, inbox=inbox, payment=payment, callback=callback, plan=plan)
    if plan.claim == "failed":
        return _failure(payment, callback, plan)
    if plan.query is None:
        assert plan.vouched is not None
        return await _vouched(
            session, inbox=inbox, payment=payment, callback=callback, vouched=plan.vouched
        )
    reading = proof.read(confirmation, checkout_request_id=plan.query)
    if reading.says is None:
        if reading.ask_again and not final_attempt:
            raise ConfirmationPending
        note = f"not proven: {reading.why}"
        await _record_verdict(
            session,
            inbox=inbox,
            payment=payment,
            callback=callback,
            verdict=V.unverified,
            note=note,
        )
        return Result(Out.ignored, V.unverified, note)
    if reading.says == "0":
        return _proven_payment(inbox, payment, callback, plan)
    return _query_answer(inbox, payment, callback, plan, reading)


def _failure(payment: Payment, callback: StkCallback, plan: proof.Plan) -> Result | Credit:
    """A failure moves no money: it is applied on its URL (a late proof of payment still wins
    over it)."""
    if payment.review_reason is not None:
        return Result(
            Out.ignored, plan.vouched, f"payment held for review ({payment.review_reason})"
        )
    if not _is_current_push(payment, callback):
        return Result(
            Out.ignored,
            plan.vouched,
            f"a failure for push {callback.checkout_request_id}, not the current push "
            f"{payment.checkout_request_id}",
        )
    return Credit(callback.result_code, plan.vouched, lifecycle.CALLBACK)


async def _vouched(
    session: AsyncSession,
    *,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    vouched: CallbackVerdict,
) -> Result | Credit:
    """A success from the allow-list (or with confirmation off) that carries everything needed
    to check it: credited if it matches what was asked, else the payment is held."""
    mismatch = _mismatch(payment, callback)
    if mismatch is not None and payment.status not in state.PAID:
        review_reason, note = mismatch
        await lifecycle.hold(
            session,
            payment=payment,
            review_reason=review_reason,
            actor=lifecycle.CALLBACK,
            detail={**_evidence(inbox, callback, vouched), "note": note},
        )
        return Result(Out.held, vouched, note)
    detail = {"proof": vouched.value, **_other_push(payment, callback)}
    return Credit("0", vouched, lifecycle.CALLBACK, callback.receipt_number, detail)


def _proven_payment(
    inbox: CallbackInbox, payment: Payment, callback: StkCallback, plan: proof.Plan
) -> Credit:
    """STK Query says the push was paid: the amount we asked, by the phone we prompted."""
    complete = proof.is_complete(callback)
    mismatch = _mismatch(payment, callback) if complete else None
    if plan.claim == "paid" and complete and mismatch is None:
        detail = {"confirmed_by_query": True, **_other_push(payment, callback)}
        return Credit("0", V.confirmed, lifecycle.CALLBACK, callback.receipt_number, detail)
    # The payment is proven, the callback is not: its receipt is not recorded.
    if mismatch is not None:
        note = f"paid according to STK Query, but {mismatch[1]}"
        verdict = V.mismatch
    elif plan.claim == "paid":
        note = "paid according to STK Query; the callback lacks the amount or phone to check it"
        verdict = V.unverified
    else:
        note = f"result code {_shown(callback.result_code)} is unreadable; STK Query answers 0"
        verdict = V.unverified
    return Credit("0", verdict, lifecycle.POLLER, detail=_confirming(inbox), note=note)


def _query_answer(
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    plan: proof.Plan,
    reading: proof.QueryVerdict,
) -> Credit:
    """STK Query gives a final answer other than paid: the callback's claim is refuted (or, for
    an unreadable code, answered); an open payment settles on Daraja's answer, as a poll would."""
    assert reading.says is not None
    verdict = V.refuted if plan.claim == "paid" else V.unverified
    note = (
        f"the callback says {_shown(callback.result_code)}; STK Query answers {reading.says} "
        f"({reading.why})"
    )
    settles = payment.status in (S.pending, S.sent) and _is_current_push(payment, callback)
    return Credit(
        reading.says if settles else None,
        verdict,
        lifecycle.POLLER,
        detail=_confirming(inbox),
        result_desc=reading.why,
        note=note,
    )


def _confirming(inbox: CallbackInbox) -> dict[str, Any]:
    return {"callback_id": inbox.id, "confirming_callback": True}


async def _stopped(
    session: AsyncSession,
    *,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    plan: proof.Plan,
) -> Result:
    assert plan.stop is not None
    verdict, what, owner = plan.stop
    if verdict == V.duplicate_receipt:
        # Never an integrity error retried forever: staff decide, polling keeps asking Daraja.
        note = f"receipt {callback.receipt_number} is already recorded on payment {owner}"
        outcome = Out.flagged
    else:
        note = f"CheckoutRequestID {callback.checkout_request_id} is the {what} of payment {owner}"
        outcome = Out.ignored
    await _record_verdict(
        session,
        inbox=inbox,
        payment=payment,
        callback=callback,
        verdict=verdict,
        note=note,
        other=owner,
    )
    return Result(outcome, verdict, note)


async def _settle(
    session: AsyncSession,
    *,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    credit: Credit,
    settings: Settings,
) -> Result:
    """The one path from a callback to `lifecycle.settle`."""
    outcome, contradiction = Out.ignored, None
    if credit.code is not None:
        _adopt_push(payment, callback)
        settlement = await lifecycle.settle(
            session,
            payment=payment,
            outcome=outcome_for(credit.code),
            result_desc=credit.result_desc
            if credit.result_desc is not None
            else callback.result_desc,
            receipt=credit.receipt,
            actor=credit.actor,
            detail={
                "checkout_request_id": callback.checkout_request_id,
                "result_code": _shown(callback.result_code),
                **credit.detail,
            },
            settings=settings,
        )
        outcome = CallbackOutcome(settlement)
        if settlement == "contradiction":
            log.warning(
                "callback_contradiction",
                payment_id=str(payment.id),
                status=payment.status,
                result_code=_shown(callback.result_code),
            )
            contradiction = f"payment is {payment.status}; callback says {credit.code}"
    if credit.note is None:
        return Result(outcome, credit.verdict, contradiction)
    assert credit.verdict is not None
    await _record_verdict(
        session,
        inbox=inbox,
        payment=payment,
        callback=callback,
        verdict=credit.verdict,
        note=credit.note,
    )
    return Result(outcome, credit.verdict, credit.note)


async def _record_verdict(
    session: AsyncSession,
    *,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    verdict: CallbackVerdict,
    note: str,
    other: uuid.UUID | None = None,
) -> None:
    """Put a callback that was not believed on the payment's timeline, where staff look."""
    detail = {**_evidence(inbox, callback, verdict), "note": note}
    if other is not None:
        detail["other_payment_id"] = str(other)
    reason = "duplicate_receipt" if verdict == V.duplicate_receipt else f"callback_{verdict}"
    await lifecycle.note(
        session, payment=payment, reason=reason, actor=lifecycle.CALLBACK, detail=detail
    )
    log.warning(
        "callback_not_believed",
        payment_id=str(payment.id),
        callback_id=inbox.id,
        verdict=verdict.value,
        source_ip=inbox.source_ip,
    )


def _evidence(
    inbox: CallbackInbox, callback: StkCallback, verdict: CallbackVerdict
) -> dict[str, Any]:
    return {
        "callback_id": inbox.id,
        "verdict": verdict.value,
        "checkout_request_id": callback.checkout_request_id,
        "result_code": _shown(callback.result_code),
        "receipt_number": callback.receipt_number,
        "amount": str(callback.amount_raw) if callback.amount_raw is not None else None,
        "phone_given": callback.phone is not None,
        "source_ip": inbox.source_ip,
    }


def _is_current_push(payment: Payment, callback: StkCallback) -> bool:
    return (
        payment.checkout_request_id is None
        or callback.checkout_request_id == payment.checkout_request_id
    )


def _adopt_push(payment: Payment, callback: StkCallback) -> None:
    """A payment whose push answer was lost learns its CheckoutRequestID from the callback."""
    if payment.checkout_request_id is None:
        payment.checkout_request_id = callback.checkout_request_id
        payment.merchant_request_id = callback.merchant_request_id


def _other_push(payment: Payment, callback: StkCallback) -> dict[str, Any]:
    # An earlier push whose answer was lost: still money in.
    return {} if _is_current_push(payment, callback) else {"other_push": True}


def _mismatch(payment: Payment, callback: StkCallback) -> tuple[str, str] | None:
    if callback.amount != payment.amount:
        return "amount_mismatch", f"asked KES {payment.amount}, callback says {callback.amount_raw}"
    if callback.phone != payment.phone:
        return "phone_mismatch", "the callback's phone is not the one the prompt went to"
    return None


def _shown(result_code: str) -> str:
    """A result code as kept on the timeline: a crafted one may be long."""
    return result_code[:32]
