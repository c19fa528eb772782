"""The STK callback inbox: the API stores the raw body (announcing it to the workers in the same
statement) and answers Daraja; a worker processes it under the payment's row lock.

Daraja signs nothing, and anyone who learns a callback URL can post to it. So a callback that
claims money (a success, or a result code nobody can read) is believed only on proof: it came
from the Safaricom allow-list, or STK Query gives the same final answer. A callback that
contradicts a final state is always checked with the query. Whatever cannot be proven changes
nothing and is recorded with its verdict, on the inbox row and on the payment's timeline; polling
goes on asking Daraja, so a forgery never blocks the genuine callback.

STK Query returns no receipt, amount or phone. When it proves a payment, the callback's receipt
is recorded only if the callback also carries the amount and phone that were asked; otherwise the
payment completes on the query's proof alone, as a poll would complete it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway import metrics
from payment_gateway.callback import network, repository
from payment_gateway.callback.exceptions import UnknownCallback
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import (
    CallbackParseError,
    DarajaError,
    StkCallback,
    StkQueryResult,
    is_recognised,
    normalise_result_code,
    outcome_for,
    parse_stk_callback,
)
from payment_gateway.models import (
    CallbackInbox,
    CallbackOutcome,
    CallbackVerdict,
    Payment,
    PaymentStatus,
)
from payment_gateway.payment import repository as payment_repository
from payment_gateway.payment import service as payment_service
from payment_gateway.payment import state
from shared.db import utcnow
from shared.jobs import enqueue_after_commit

log = structlog.get_logger(__name__)

PROCESS_TASK = "callback.process"

Out = CallbackOutcome
V = CallbackVerdict
S = PaymentStatus

# What a callback says happened: money was paid (result 0 and a receipt), a final failure the
# catalogue can read, or something that says nothing reliable (an unreadable code, 0 without a
# receipt) and must be asked of Daraja.
Claim = Literal["paid", "failed", "unknown"]


def body_digest(body: bytes) -> str:
    """Identical callbacks collide on this: the hash of the canonical JSON (so whitespace or key
    order does not make a resend look new), or of the raw bytes if it is not JSON."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


async def receive(
    pool: asyncpg.Pool, *, token: str, body: bytes, source_ip: str | None, settings: Settings
) -> None:
    """Store the callback and announce it to the workers, or raise `UnknownCallback` (nothing
    stored) for a token no push used."""
    stored = await repository.store(
        pool,
        token_hash=payment_service.token_hash(token),
        digest=body_digest(body),
        body=body,
        source_ip=source_ip,
        channel=settings.callback_channel,
    )
    if stored is None:
        metrics.CALLBACKS.labels("unknown_token").inc()
        log.warning("callback_unknown_token", source_ip=source_ip)
        raise UnknownCallback("no payment expects a callback at this address")
    if stored.inbox_id is None:
        metrics.CALLBACKS.labels("duplicate").inc()


def log_trust_policy(settings: Settings) -> None:
    """Say at start-up how callbacks are believed; loudly when confirmation is turned off."""
    if settings.CALLBACK_CONFIRM_BY_QUERY:
        log.info(
            "callback_confirmation_by_query",
            allow_listed_networks=len(settings.CALLBACK_ALLOWED_CIDRS),
        )
        return
    log.warning(
        "callback_confirmation_disabled",
        allow_listed_networks=len(settings.CALLBACK_ALLOWED_CIDRS),
        consequence="success callbacks are credited on their URL alone, without asking Daraja",
    )


@dataclass(frozen=True)
class Plan:
    """What a stored callback needs before it can be applied."""

    claim: Claim
    # Who vouches for it without a query: the allow-list, or (confirmation off) its URL.
    vouched: CallbackVerdict | None
    # The CheckoutRequestID to ask Daraja about first; None when no query is needed.
    query: str | None
    # A verdict reached without Daraja (a receipt or push of another payment).
    stop: tuple[CallbackVerdict, str, uuid.UUID] | None = None


def _claim(callback: StkCallback) -> Claim:
    if callback.is_success:
        return "paid"
    if callback.result_code == "0" or not is_recognised(callback.result_code):
        return "unknown"
    return "failed"


def _complete(callback: StkCallback) -> bool:
    """Whether the callback carries what is needed to check it against the payment."""
    return callback.amount_raw is not None and callback.phone is not None


def _from_allow_list(inbox: CallbackInbox, settings: Settings) -> bool:
    cidrs = tuple(settings.CALLBACK_ALLOWED_CIDRS)
    return bool(cidrs) and network.is_allowed(inbox.source_ip, cidrs)


async def _plan(
    session: AsyncSession,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    settings: Settings,
) -> Plan:
    claim = _claim(callback)
    vouched = None
    if _from_allow_list(inbox, settings):
        vouched = V.allow_listed
    elif not settings.CALLBACK_CONFIRM_BY_QUERY or claim == "failed":
        vouched = V.unchecked
    if claim == "failed":
        return Plan(claim, vouched, query=None)
    others = await payment_repository.other_owners(
        session,
        payment_id=payment.id,
        receipt_number=callback.receipt_number,
        checkout_request_id=callback.checkout_request_id,
    )
    if others.receipt is not None:
        return Plan(claim, vouched, None, (V.duplicate_receipt, "receipt", others.receipt))
    if others.push is not None:
        return Plan(claim, vouched, None, (V.mismatch, "push", others.push))
    needs_query = (
        vouched is None
        or claim == "unknown"
        or not _complete(callback)
        or S(payment.status) in state.FINAL_FAILURES
    )
    return Plan(claim, vouched, callback.checkout_request_id if needs_query else None)


@dataclass(frozen=True)
class Attempt:
    """One attempt at a stored callback, counted before anything else happens."""

    number: int
    final: bool
    query: str | None  # what to ask STK Query before processing


async def start_attempt(
    session: AsyncSession, *, inbox_id: int, settings: Settings
) -> Attempt | None:
    """Count an attempt at an unprocessed callback and say what to ask Daraja first; None when
    it was processed already. Counted in its own transaction, so a crash counts too."""
    inbox = await repository.count_attempt(session, inbox_id)
    if inbox is None:
        return None
    number = inbox.attempts
    final = number >= settings.CALLBACK_PROCESS_MAX_ATTEMPTS
    payment = await payment_repository.get(session, inbox.payment_id)
    if payment is None:
        return Attempt(number, final, query=None)
    try:
        callback = parse_stk_callback(inbox.body)
    except CallbackParseError:
        return Attempt(number, final, query=None)
    plan = await _plan(session, inbox, payment, callback, settings)
    return Attempt(number, final, query=None if plan.stop else plan.query)


@dataclass(frozen=True)
class Confirmation:
    """What STK Query answered about a push, asked before the payment row was locked."""

    checkout_request_id: str
    answer: StkQueryResult | DarajaError


@dataclass(frozen=True)
class QueryVerdict:
    says: str | None  # Daraja's final, readable result code; None when it could not tell
    why: str
    ask_again: bool  # worth another attempt (still processing, a transient error)


def _read(confirmation: Confirmation | None, checkout_request_id: str) -> QueryVerdict:
    if confirmation is None or confirmation.checkout_request_id != checkout_request_id:
        return QueryVerdict(None, "STK Query was not asked yet", ask_again=True)
    answer = confirmation.answer
    if isinstance(answer, DarajaError):
        return QueryVerdict(None, f"STK Query failed: {answer}"[:300], answer.retryable)
    if answer.pending:
        return QueryVerdict(None, f"STK Query: {answer.result_desc}"[:300], ask_again=True)
    code = normalise_result_code(answer.result_code)
    if code is None or not is_recognised(code):
        return QueryVerdict(None, f"STK Query answered an unknown code {code!r}"[:300], True)
    return QueryVerdict(code, answer.result_desc[:300], ask_again=False)


class ConfirmationPending(Exception):
    """Daraja cannot tell yet; processing is to be tried again later."""


@dataclass(frozen=True)
class Processed:
    outcome: str
    settled: bool
    received_at: datetime


@dataclass(frozen=True)
class Result:
    outcome: CallbackOutcome
    verdict: CallbackVerdict | None
    note: str | None = None


async def process(
    session: AsyncSession,
    *,
    inbox_id: int,
    settings: Settings,
    confirmation: Confirmation | None = None,
    final_attempt: bool = True,
) -> Processed | None:
    """Apply one stored callback; None when it was processed already (or is being processed).
    Raises `ConfirmationPending` while Daraja cannot tell and this is not the final attempt."""
    inbox = await repository.lock_unprocessed(session, inbox_id)
    if inbox is None:
        return None
    try:
        callback = parse_stk_callback(inbox.body)
    except CallbackParseError as e:
        result = Result(Out.invalid, None, str(e)[:500])
    else:
        payment = await payment_repository.lock(session, inbox.payment_id)
        assert payment is not None  # the inbox row references it
        plan = await _plan(session, inbox, payment, callback, settings)
        result = await _apply(
            session,
            inbox,
            payment,
            callback,
            plan,
            settings=settings,
            confirmation=confirmation,
            final_attempt=final_attempt,
        )
    await _finish(session, inbox, result)
    return Processed(
        result.outcome, settled=result.outcome == Out.applied, received_at=inbox.received_at
    )


async def _apply(
    session: AsyncSession,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    plan: Plan,
    *,
    settings: Settings,
    confirmation: Confirmation | None,
    final_attempt: bool,
) -> Result:
    if plan.stop is not None:
        return await _stopped(session, inbox, payment, callback, plan.stop)
    if plan.claim == "failed":
        return await _apply_failure(session, payment, callback, plan, settings=settings)
    if plan.query is None:
        assert plan.vouched is not None
        return await _apply_vouched(session, inbox, payment, callback, plan.vouched, settings)
    reading = _read(confirmation, plan.query)
    if reading.says is None:
        if reading.ask_again and not final_attempt:
            raise ConfirmationPending
        note = f"not proven: {reading.why}"
        return await _unproven(session, inbox, payment, callback, V.unverified, note)
    if reading.says == "0":
        return await _apply_proven_payment(session, inbox, payment, callback, plan, settings)
    return await _apply_query_answer(session, inbox, payment, callback, plan, reading, settings)


async def _apply_failure(
    session: AsyncSession,
    payment: Payment,
    callback: StkCallback,
    plan: Plan,
    *,
    settings: Settings,
) -> Result:
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
    _adopt_push(payment, callback)
    outcome = await _settle(
        session,
        payment,
        callback,
        code=callback.result_code,
        receipt=None,
        actor=payment_service.CALLBACK,
        detail={},
        settings=settings,
    )
    return _settled(outcome, plan.vouched)


async def _apply_vouched(
    session: AsyncSession,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    vouched: CallbackVerdict,
    settings: Settings,
) -> Result:
    """A success from the allow-list (or with confirmation off) that carries everything needed
    to check it: credited if it matches what was asked, else the payment is held."""
    mismatch = _mismatch(payment, callback)
    if mismatch is not None and payment.status != S.completed:
        review_reason, note = mismatch
        await payment_service.hold(
            session,
            payment,
            review_reason=review_reason,
            actor=payment_service.CALLBACK,
            detail={**_evidence(inbox, callback, vouched), "note": note},
        )
        return Result(Out.held, vouched, note)
    _adopt_push(payment, callback)
    outcome = await _settle(
        session,
        payment,
        callback,
        code="0",
        receipt=callback.receipt_number,
        actor=payment_service.CALLBACK,
        detail={"proof": vouched.value, **_other_push(payment, callback)},
        settings=settings,
    )
    return _settled(outcome, vouched)


async def _apply_proven_payment(
    session: AsyncSession,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    plan: Plan,
    settings: Settings,
) -> Result:
    """STK Query says the push was paid: the amount we asked, by the phone we prompted."""
    mismatch = _mismatch(payment, callback) if _complete(callback) else None
    if plan.claim == "paid" and _complete(callback) and mismatch is None:
        _adopt_push(payment, callback)
        outcome = await _settle(
            session,
            payment,
            callback,
            code="0",
            receipt=callback.receipt_number,
            actor=payment_service.CALLBACK,
            detail={"confirmed_by_query": True, **_other_push(payment, callback)},
            settings=settings,
        )
        return _settled(outcome, V.confirmed)
    # The payment is proven, the callback is not: its receipt is not recorded.
    if mismatch is not None:
        verdict, note = V.mismatch, f"paid according to STK Query, but {mismatch[1]}"
    elif plan.claim == "paid":
        verdict = V.unverified
        note = "paid according to STK Query; the callback lacks the amount or phone to check it"
    else:
        verdict = V.unverified
        note = f"result code {_shown(callback.result_code)} is unreadable; STK Query answers 0"
    _adopt_push(payment, callback)
    outcome = await _settle(
        session,
        payment,
        callback,
        code="0",
        receipt=None,
        actor=payment_service.POLLER,
        detail={"callback_id": inbox.id, "confirming_callback": True},
        settings=settings,
    )
    await _record_verdict(session, inbox, payment, callback, verdict, note)
    return Result(outcome[0], verdict, note)


async def _apply_query_answer(
    session: AsyncSession,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    plan: Plan,
    reading: QueryVerdict,
    settings: Settings,
) -> Result:
    """STK Query gives a final answer other than paid: the callback's claim is refuted (or, for
    an unreadable code, answered); an open payment settles on Daraja's answer, as a poll would."""
    verdict = V.refuted if plan.claim == "paid" else V.unverified
    note = (
        f"the callback says {_shown(callback.result_code)}; STK Query answers {reading.says} "
        f"({reading.why})"
    )
    outcome = Out.ignored
    if payment.status in (S.pending, S.sent) and _is_current_push(payment, callback):
        assert reading.says is not None
        _adopt_push(payment, callback)
        outcome, _ = await _settle(
            session,
            payment,
            callback,
            code=reading.says,
            receipt=None,
            actor=payment_service.POLLER,
            detail={"callback_id": inbox.id, "confirming_callback": True},
            settings=settings,
            result_desc=reading.why,
        )
    await _record_verdict(session, inbox, payment, callback, verdict, note)
    return Result(outcome, verdict, note)


async def _stopped(
    session: AsyncSession,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    stop: tuple[CallbackVerdict, str, uuid.UUID],
) -> Result:
    verdict, what, owner = stop
    if verdict == V.duplicate_receipt:
        # Never an integrity error retried forever: staff decide, polling keeps asking Daraja.
        note = f"receipt {callback.receipt_number} is already recorded on payment {owner}"
        await _record_verdict(session, inbox, payment, callback, verdict, note, other=owner)
        return Result(Out.flagged, verdict, note)
    note = f"CheckoutRequestID {callback.checkout_request_id} is the {what} of payment {owner}"
    return await _unproven(session, inbox, payment, callback, verdict, note, other=owner)


async def _unproven(
    session: AsyncSession,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    verdict: CallbackVerdict,
    note: str,
    *,
    other: uuid.UUID | None = None,
) -> Result:
    await _record_verdict(session, inbox, payment, callback, verdict, note, other=other)
    return Result(Out.ignored, verdict, note)


async def _record_verdict(
    session: AsyncSession,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    verdict: CallbackVerdict,
    note: str,
    *,
    other: uuid.UUID | None = None,
) -> None:
    """Put a callback that was not believed on the payment's timeline, where staff look."""
    detail = {**_evidence(inbox, callback, verdict), "note": note}
    if other is not None:
        detail["other_payment_id"] = str(other)
    reason = "duplicate_receipt" if verdict == V.duplicate_receipt else f"callback_{verdict}"
    await payment_service.note(
        session, payment, reason=reason, actor=payment_service.CALLBACK, detail=detail
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


async def _settle(
    session: AsyncSession,
    payment: Payment,
    callback: StkCallback,
    *,
    code: str,
    receipt: str | None,
    actor: payment_service.Actor,
    detail: dict[str, Any],
    settings: Settings,
    result_desc: str | None = None,
) -> tuple[CallbackOutcome, str | None]:
    settlement = await payment_service.settle(
        session,
        payment,
        outcome=outcome_for(code),
        result_desc=result_desc if result_desc is not None else callback.result_desc,
        receipt=receipt,
        actor=actor,
        detail={
            "checkout_request_id": callback.checkout_request_id,
            "result_code": _shown(callback.result_code),
            **detail,
        },
        settings=settings,
    )
    if settlement == "contradiction":
        log.warning(
            "callback_contradiction",
            payment_id=str(payment.id),
            status=payment.status,
            result_code=_shown(callback.result_code),
        )
        return Out.contradiction, f"payment is {payment.status}; callback says {code}"
    return CallbackOutcome(settlement), None


def _settled(
    outcome: tuple[CallbackOutcome, str | None], verdict: CallbackVerdict | None
) -> Result:
    return Result(outcome[0], verdict, outcome[1])


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


async def _finish(session: AsyncSession, inbox: CallbackInbox, result: Result) -> None:
    await repository.mark(
        session,
        inbox=inbox,
        outcome=result.outcome,
        verdict=result.verdict,
        note=result.note[:500] if result.note else None,
    )
    metrics.CALLBACKS.labels(result.outcome).inc()
    if result.verdict is not None:
        metrics.CALLBACK_VERDICTS.labels(result.verdict).inc()


async def give_up(session: AsyncSession, *, inbox_id: int, attempts: int, error: str) -> bool:
    """End a callback that failed on every attempt in the `error` state, for staff: it is never
    picked up again. Touches only the inbox row, which works whatever failed in the payment's
    tables. False when someone else finished it meanwhile."""
    inbox = await repository.lock_unprocessed(session, inbox_id)
    if inbox is None:
        return False
    note = f"gave up after {attempts} attempts: {error}"
    await _finish(session, inbox, Result(Out.error, None, note))
    log.error("callback_gave_up", callback_id=inbox_id, attempts=attempts, error=error[:300])
    return True


def process_job(inbox_id: int, *, namespace: str) -> dict[str, Any]:
    """arq options for processing one stored callback: every worker hears the announcement, the
    job id lets only one of them queue it (namespaced: arq job ids share one key space)."""
    return {"_job_id": f"{namespace}:callback:{inbox_id}"}


async def requeue_unprocessed(
    session: AsyncSession, *, settings: Settings, limit: int = 500
) -> int:
    older_than = utcnow() - timedelta(seconds=settings.scaled(settings.SWEEP_GRACE_S))
    ids = await repository.unprocessed(session, older_than=older_than, limit=limit)
    for inbox_id in ids:
        enqueue_after_commit(
            session, PROCESS_TASK, inbox_id, **process_job(inbox_id, namespace=settings.NAMESPACE)
        )
    return len(ids)
