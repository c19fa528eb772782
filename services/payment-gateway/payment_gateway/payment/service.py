"""The payment lifecycle: creation, pushes and their retries, status queries, settlement,
holds, and the sweep that resumes monitoring after a restart.

Functions here never commit. Callers (the request dependency, the task wrapper) own the
transactions; where a Daraja call sits between two of them, the caller commits the first before
calling Daraja.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from redis.asyncio import Redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway import metrics
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import (
    DarajaClient,
    DarajaError,
    DarajaRateLimited,
    DarajaSubscriberBusy,
    DarajaUnavailable,
    Outcome,
    StkPushAccepted,
    StkQueryResult,
    outcome_for,
    outcome_for_no_answer,
    outcome_for_rejection,
)
from payment_gateway.models import (
    CallbackToken,
    EventSource,
    Payment,
    PaymentEvent,
    PaymentStatus,
)
from payment_gateway.payment import repository, state
from payment_gateway.payment.exceptions import (
    AmountOutOfRange,
    DuplicatePayment,
    InvalidCursor,
    InvalidFilter,
    PaymentNotFound,
    PhoneBusy,
    RefreshTooSoon,
)
from payment_gateway.payment.schemas import PaymentCreate
from payment_gateway.webhook import service as webhook_service
from shared.db import utcnow
from shared.jobs import enqueue_after_commit
from shared.phone import mask_phone, normalise_phone
from shared.schemas import supported_moment
from shared.worker import backoff_seconds

log = structlog.get_logger(__name__)

PUSH_TASK = "payment.push"
POLL_TASK = "payment.poll"

S = PaymentStatus

MESSAGE_PENDING = "We are sending an M-Pesa prompt to your phone."
MESSAGE_RETRYING = "M-Pesa is slow to respond; the prompt will reach your phone shortly."
MESSAGE_PAID_NO_RECEIPT = "Payment received. Thank you."
LATE_SUCCESS = "late_success"
PUSH_GAVE_UP = Outcome(
    "failed",
    "daraja_unavailable",
    "We could not reach M-Pesa to send the prompt. No money was taken. Please try again later.",
)

Settlement = Literal["applied", "duplicate", "contradiction", "ignored"]


@dataclass(frozen=True)
class Actor:
    """Who causes a change: recorded on the timeline."""

    source: EventSource
    name: str


SYSTEM = Actor(EventSource.system, "gateway-worker")
POLLER = Actor(EventSource.query, "gateway-worker")
CALLBACK = Actor(EventSource.callback, "daraja")


def message_sent(amount: int) -> str:
    return f"Check your phone and enter your M-Pesa PIN to pay KES {amount:,}."


def message_paid(receipt: str | None) -> str:
    return f"Payment received. M-Pesa receipt {receipt}." if receipt else MESSAGE_PAID_NO_RECEIPT


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def callback_url(settings: Settings, token: str) -> str:
    # Hex cannot spell any word Daraja refuses in a CallBackURL (mpesa, query, sql, exec, cmd).
    return f"{settings.PUBLIC_BASE_URL}/v1/callbacks/stk/{token}"


def _inflight_deadline(settings: Settings) -> datetime:
    """When a push that is being made right now must have finished; only after it does the
    sweep consider the payment's push lost."""
    seconds = settings.DARAJA_CONNECT_TIMEOUT_S + settings.DARAJA_READ_TIMEOUT_S
    return utcnow() + timedelta(seconds=seconds + settings.scaled(settings.SWEEP_GRACE_S))


async def create(
    session: AsyncSession, *, request: PaymentCreate, actor: Actor, settings: Settings
) -> tuple[Payment, str]:
    """A `pending` payment and the callback token of its first push; refuses what Daraja would."""
    if not settings.AMOUNT_MIN <= request.amount <= settings.AMOUNT_MAX:
        raise AmountOutOfRange(
            f"amount {request.amount} is outside the accepted range: a whole number of KES from "
            f"{settings.AMOUNT_MIN} to {settings.AMOUNT_MAX}"
        )
    now = utcnow()
    window = timedelta(seconds=settings.DUPLICATE_WINDOW_S)
    recent = await repository.last_push(
        session, phone=request.phone, amount=request.amount, since=now - window
    )
    if recent is not None and recent.pushed_at is not None:
        wait = max(1, int((recent.pushed_at + window - now).total_seconds()) + 1)
        raise DuplicatePayment(
            # No payment id: the earlier payment may be another customer's.
            f"KES {request.amount} was already requested from {mask_phone(request.phone)} "
            f"less than {int(settings.DUPLICATE_WINDOW_S)} seconds ago; "
            f"M-Pesa refuses the same phone and amount within that window. Retry in {wait} "
            "seconds or use a different amount",
            headers={"Retry-After": str(wait)},
        )
    await _refuse_if_phone_busy(session, request.phone)
    payment = Payment(
        id=uuid.uuid4(),
        status=S.pending,
        amount=request.amount,
        phone=request.phone,
        account_reference=request.account_reference,
        description=request.description,
        metadata_=request.metadata,
        environment=settings.DARAJA_ENVIRONMENT,
        customer_message=MESSAGE_PENDING,
        created_by=actor.name,
        sequence=0,
        push_attempts=1,
        poll_step=0,
        next_check_at=_inflight_deadline(settings),
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            await repository.add(session, payment)
    except IntegrityError as e:
        if "payment_open_phone_key" not in str(e.orig):
            raise
        # Another request for this phone committed between our check and our insert.
        await _refuse_if_phone_busy(session, request.phone)
        raise PhoneBusy(
            f"{mask_phone(request.phone)} had another payment started at the same moment; M-Pesa "
            "allows one prompt per phone at a time. Wait for it to finish, then try again"
        ) from e
    token = await _new_token(session, payment=payment, attempt=1)
    await repository.add_event(
        session,
        PaymentEvent(
            payment_id=payment.id,
            from_status=None,
            to_status=S.pending,
            source=actor.source,
            actor=actor.name,
            detail={"amount": payment.amount},
            at=now,
        ),
    )
    return payment, token


async def _refuse_if_phone_busy(session: AsyncSession, phone: str) -> None:
    busy = await repository.open_for_phone(session, phone)
    if busy is not None:
        raise PhoneBusy(
            # No payment id: the open payment may be another customer's.
            f"{mask_phone(phone)} already has an open payment ({busy.status}); M-Pesa "
            "allows one prompt per phone at a time. Wait for it to complete, fail or time out, "
            "then try again"
        )


async def _new_token(session: AsyncSession, *, payment: Payment, attempt: int) -> str:
    token = secrets.token_hex(20)
    await repository.add_token(
        session,
        CallbackToken(token_hash=token_hash(token), payment_id=payment.id, push_attempt=attempt),
    )
    return token


@dataclass(frozen=True)
class PushOrder:
    """Everything a push needs, read inside a transaction and used after it commits."""

    payment_id: uuid.UUID
    attempt: int
    phone: str
    amount: int
    account_reference: str
    description: str
    token: str


def push_order(payment: Payment, token: str) -> PushOrder:
    return PushOrder(
        payment_id=payment.id,
        attempt=payment.push_attempts,
        phone=payment.phone,
        amount=payment.amount,
        account_reference=payment.account_reference,
        description=payment.description,
        token=token,
    )


async def prepare_retry(
    session: AsyncSession, *, payment_id: uuid.UUID, attempt: int, settings: Settings
) -> PushOrder | None:
    """Claim push attempt `attempt` of a still-pending payment; None if it is no longer due
    (settled meanwhile, or another job made this attempt)."""
    payment = await repository.lock(session, payment_id)
    if payment is None or payment.status != S.pending or payment.push_attempts != attempt - 1:
        return None
    payment.push_attempts = attempt
    payment.next_check_at = _inflight_deadline(settings)
    payment.updated_at = utcnow()
    token = await _new_token(session, payment=payment, attempt=attempt)
    return push_order(payment, token)


async def push(
    daraja: DarajaClient, *, order: PushOrder, settings: Settings
) -> StkPushAccepted | DarajaError:
    """The STK push itself, outside any transaction. Never raises a Daraja error: the caller
    records whatever happened."""
    try:
        return await daraja.stk_push(
            phone=order.phone,
            amount=order.amount,
            account_reference=order.account_reference,
            description=order.description,
            callback_url=callback_url(settings, order.token),
        )
    except DarajaError as e:
        return e


async def record_push(
    session: AsyncSession,
    *,
    order: PushOrder,
    result: StkPushAccepted | DarajaError,
    actor: Actor,
    settings: Settings,
) -> Payment:
    """Store what the push achieved: `sent` and the polling schedule; a retry for a transient
    failure; `failed` for a rejection or when retries run out."""
    payment = await repository.lock(session, order.payment_id)
    if payment is None:
        raise PaymentNotFound(f"payment {order.payment_id} disappeared during its push")
    now = utcnow()
    if isinstance(result, StkPushAccepted):
        if payment.checkout_request_id is None:
            payment.checkout_request_id = result.checkout_request_id
            payment.merchant_request_id = result.merchant_request_id
        if payment.pushed_at is None:
            payment.pushed_at = now
        if payment.status == S.pending:
            await transition(
                session,
                payment,
                to=S.sent,
                actor=actor,
                customer_message=message_sent(payment.amount),
                detail={
                    "checkout_request_id": result.checkout_request_id,
                    "attempt": order.attempt,
                },
                settings=settings,
            )
            schedule_poll(session, payment, step=0, settings=settings)
        return payment
    if payment.status != S.pending:
        return payment  # a callback settled it meanwhile; the error no longer matters
    error = result
    detail: dict[str, Any] = {
        "attempt": order.attempt,
        "error": type(error).__name__,
        "error_code": error.error_code,
        "message": error.message[:300],
    }
    if not error.retryable or order.attempt >= settings.PUSH_MAX_ATTEMPTS:
        if error.retryable and not isinstance(error, DarajaSubscriberBusy):
            outcome = PUSH_GAVE_UP
        else:
            outcome = outcome_for_rejection(error)
        await transition(
            session,
            payment,
            to=S.failed,
            actor=actor,
            reason=outcome.reason,
            result_code=error.error_code,
            result_desc=error.message[:500],
            customer_message=outcome.customer_message,
            detail=detail,
            settings=settings,
        )
        return payment
    delay = settings.scaled(
        backoff_seconds(
            order.attempt, base_s=settings.PUSH_RETRY_BASE_S, cap_s=settings.PUSH_RETRY_CAP_S
        )
    )
    if isinstance(error, DarajaRateLimited | DarajaSubscriberBusy):
        delay = max(delay, settings.scaled(error.retry_after_s))
    if isinstance(error, DarajaUnavailable) and error.maybe_processed:
        # The phone may be ringing already. Its callback still reaches this payment (its token
        # stays valid), and Daraja would refuse a second push of the same amount within its
        # duplicate window anyway, so wait that window out before trying again.
        delay = max(delay, settings.DUPLICATE_WINDOW_S)
    payment.customer_message = MESSAGE_RETRYING
    payment.next_check_at = now + timedelta(seconds=delay)
    payment.updated_at = now
    metrics.PUSH_RETRIES.labels(type(error).__name__).inc()
    enqueue_after_commit(
        session,
        PUSH_TASK,
        str(payment.id),
        order.attempt + 1,
        _job_id=f"push:{payment.id}:{order.attempt + 1}",
        _defer_by=delay,
    )
    log.warning(
        "stk_push_retry_scheduled",
        payment_id=str(payment.id),
        attempt=order.attempt,
        delay_s=round(delay, 3),
        error=str(error),
    )
    return payment


def schedule_poll(
    session: AsyncSession, payment: Payment, *, step: int, settings: Settings
) -> None:
    delay = settings.scaled(settings.POLL_SCHEDULE_S[step])
    payment.poll_step = step
    payment.next_check_at = utcnow() + timedelta(seconds=delay)
    enqueue_after_commit(
        session,
        POLL_TASK,
        str(payment.id),
        step,
        _job_id=f"poll:{payment.id}:{step}",
        _defer_by=delay,
    )


async def checkout_to_poll(
    session: AsyncSession, *, payment_id: uuid.UUID, step: int
) -> str | None:
    """The CheckoutRequestID to query if poll `step` of this payment is still due."""
    payment = await repository.get(session, payment_id)
    if (
        payment is None
        or payment.status != S.sent
        or payment.poll_step != step
        or payment.review_reason is not None
    ):
        return None
    return payment.checkout_request_id


async def query(daraja: DarajaClient, checkout_request_id: str) -> StkQueryResult | DarajaError:
    try:
        return await daraja.stk_query(checkout_request_id)
    except DarajaError as e:
        return e


async def record_poll(
    session: AsyncSession,
    *,
    payment_id: uuid.UUID,
    step: int,
    result: StkQueryResult | DarajaError,
    settings: Settings,
) -> Payment | None:
    """Apply one scheduled query: settle on a final answer, else poll again, and time out when
    the schedule is exhausted."""
    payment = await repository.lock(session, payment_id)
    if payment is None or payment.status != S.sent or payment.poll_step != step:
        return payment
    if payment.review_reason is not None:
        return payment
    if isinstance(result, StkQueryResult) and not result.pending and result.result_code is not None:
        await settle(
            session,
            payment,
            outcome=outcome_for(result.result_code),
            result_desc=result.result_desc,
            receipt=None,
            actor=POLLER,
            detail={"step": step},
            settings=settings,
        )
        return payment
    if step + 1 < len(settings.POLL_SCHEDULE_S):
        schedule_poll(session, payment, step=step + 1, settings=settings)
        return payment
    outcome = outcome_for_no_answer()
    last = result.result_desc if isinstance(result, StkQueryResult) else str(result)
    await transition(
        session,
        payment,
        to=S.timeout,
        actor=POLLER,
        reason=outcome.reason,
        result_desc=last[:500],
        customer_message=outcome.customer_message,
        detail={"step": step, "polls": len(settings.POLL_SCHEDULE_S)},
        settings=settings,
    )
    return payment


async def record_refresh(
    session: AsyncSession,
    *,
    payment_id: uuid.UUID,
    result: StkQueryResult,
    actor: Actor,
    settings: Settings,
) -> Payment:
    """Apply an on-demand query: a final answer settles (or proves a late success, or ends a
    hold); a pending one changes nothing."""
    payment = await repository.lock(session, payment_id)
    if payment is None:
        raise PaymentNotFound(f"no payment has id {payment_id}")
    if not result.pending and result.result_code is not None:
        await settle(
            session,
            payment,
            outcome=outcome_for(result.result_code),
            result_desc=result.result_desc,
            receipt=None,
            actor=actor,
            detail={"refresh": True},
            settings=settings,
        )
    return payment


async def claim_refresh(redis: Redis, *, payment_id: uuid.UUID, settings: Settings) -> None:
    """One on-demand query per payment per `REFRESH_MIN_INTERVAL_S`, across every API process:
    Daraja's spike arrest counts our queries, not our callers'."""
    key = f"{settings.NAMESPACE}:refresh:{payment_id}"
    window_ms = max(1, int(settings.REFRESH_MIN_INTERVAL_S * 1000))
    if await redis.set(key, b"1", nx=True, px=window_ms):
        return
    remaining_ms = max(int(await redis.pttl(key)), 0)
    wait = max(1, -(-remaining_ms // 1000))
    raise RefreshTooSoon(
        f"payment {payment_id} was refreshed less than {settings.REFRESH_MIN_INTERVAL_S:g} "
        f"seconds ago; refresh again in {wait} seconds (polling keeps monitoring it meanwhile)",
        headers={"Retry-After": str(wait)},
    )


async def settle(
    session: AsyncSession,
    payment: Payment,
    *,
    outcome: Outcome,
    result_desc: str | None,
    receipt: str | None,
    actor: Actor,
    detail: dict[str, Any],
    settings: Settings,
) -> Settlement:
    """Apply a final answer from Daraja to a locked payment. `completed` is never left; a
    failure after a failure is kept as a contradiction; proof of payment always wins."""
    target = PaymentStatus(outcome.status) if outcome.status != "pending" else None
    if target is None:
        return "ignored"
    current = PaymentStatus(payment.status)
    contradiction = {**detail, "says": outcome.result_code, "receipt_number": receipt}
    if current == S.completed:
        if target != S.completed or (
            receipt and payment.receipt_number and receipt != payment.receipt_number
        ):
            await note(
                session, payment, reason="contradiction_ignored", actor=actor, detail=contradiction
            )
            return "contradiction"
        if receipt and not payment.receipt_number:
            # Settled by a query (which carries no receipt); subscribers get the receipt as a
            # newer `payment.completed`.
            payment.receipt_number = receipt
            payment.customer_message = message_paid(receipt)
            payment.updated_at = utcnow()
            payment.sequence += 1
            await note(session, payment, reason="receipt_recorded", actor=actor, detail=detail)
            await webhook_service.publish(session, payment=payment, settings=settings)
            return "applied"
        return "duplicate"
    if current in state.FINAL_FAILURES:
        if target == current:
            return "duplicate"
        if target != S.completed:
            await note(
                session, payment, reason="contradiction_ignored", actor=actor, detail=contradiction
            )
            return "contradiction"
    if current == S.pending:
        # Daraja accepted a push whose answer we never got: the callback or query proves it.
        payment.pushed_at = payment.pushed_at or utcnow()
        await transition(
            session,
            payment,
            to=S.sent,
            actor=actor,
            customer_message=message_sent(payment.amount),
            detail={"inferred": True},
            settings=settings,
        )
    if payment.review_reason is not None:
        # Daraja's final answer is the proof the hold waited for; what caused the hold stays on
        # the timeline.
        held_for = payment.review_reason
        payment.review_reason = None
        await note(
            session,
            payment,
            reason="hold_released",
            actor=actor,
            detail={**detail, "review_reason": held_for},
        )
    if target == S.completed:
        await transition(
            session,
            payment,
            to=S.completed,
            actor=actor,
            result_code=outcome.result_code or "0",
            result_desc=result_desc,
            receipt=receipt,
            customer_message=message_paid(receipt),
            detail=detail,
            settings=settings,
        )
    else:
        await transition(
            session,
            payment,
            to=target,
            actor=actor,
            reason=outcome.reason,
            result_code=outcome.result_code,
            result_desc=result_desc,
            customer_message=outcome.customer_message,
            detail=detail,
            settings=settings,
        )
    return "applied"


async def transition(
    session: AsyncSession,
    payment: Payment,
    *,
    to: PaymentStatus,
    actor: Actor,
    customer_message: str,
    settings: Settings,
    reason: str | None = None,
    result_code: str | None = None,
    result_desc: str | None = None,
    receipt: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The one place a payment's status changes: checked against the lifecycle, appended to the
    timeline, published to subscribers, counted."""
    state.check_transition(payment.status, to)
    now = utcnow()
    from_status = payment.status
    late = state.is_late_success(from_status, to)
    if late:
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
    if to not in (S.pending, S.sent):
        payment.settled_at = now
        payment.next_check_at = None
    await repository.add_event(
        session,
        PaymentEvent(
            payment_id=payment.id,
            from_status=from_status,
            to_status=to,
            reason=reason,
            source=actor.source,
            actor=actor.name,
            detail={**(detail or {}), **({"result_code": result_code} if result_code else {})},
            at=now,
        ),
    )
    await webhook_service.publish(session, payment=payment, settings=settings)
    metrics.TRANSITIONS.labels(to, actor.source).inc()


async def hold(
    session: AsyncSession,
    payment: Payment,
    *,
    review_reason: str,
    actor: Actor,
    detail: dict[str, Any],
) -> None:
    """Stop crediting or monitoring a payment whose evidence disagrees with what was asked."""
    payment.review_reason = review_reason
    payment.next_check_at = None
    payment.updated_at = utcnow()
    await note(session, payment, reason=f"held_{review_reason}", actor=actor, detail=detail)
    log.warning("payment_held_for_review", payment_id=str(payment.id), reason=review_reason)


async def note(
    session: AsyncSession, payment: Payment, *, reason: str, actor: Actor, detail: dict[str, Any]
) -> None:
    """A timeline entry that is not a status change."""
    await repository.add_event(
        session,
        PaymentEvent(
            payment_id=payment.id,
            from_status=payment.status,
            to_status=payment.status,
            reason=reason,
            source=actor.source,
            actor=actor.name,
            detail=detail,
            at=utcnow(),
        ),
    )


async def get(session: AsyncSession, payment_id: uuid.UUID) -> Payment:
    payment = await repository.get(session, payment_id)
    if payment is None:
        raise PaymentNotFound(f"no payment has id {payment_id}")
    return payment


async def timeline(session: AsyncSession, payment_id: uuid.UUID) -> list[PaymentEvent]:
    return await repository.events(session, payment_id)


async def search(
    session: AsyncSession,
    *,
    statuses: list[PaymentStatus],
    phone: str | None,
    checkout_request_id: str | None,
    receipt_number: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Payment], str | None]:
    """A page of payments, newest first, and the cursor of the next page (None at the end)."""
    normalised_phone = None
    if phone is not None:
        try:
            normalised_phone = normalise_phone(phone)
        except ValueError as e:
            raise InvalidFilter(f"phone {e}") from e
    for name, moment in (("created_from", created_from), ("created_to", created_to)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidFilter(f"{name} must carry a timezone, e.g. 2026-11-22T07:00:00Z")
    filters = repository.PaymentFilters(
        statuses=[s.value for s in statuses],
        phone=normalised_phone,
        checkout_request_id=checkout_request_id,
        receipt_number=receipt_number,
        created_from=created_from,
        created_to=created_to,
    )
    after = _decode_cursor(cursor) if cursor else None
    rows = await repository.search(session, filters=filters, after=after, limit=limit + 1)
    items = rows[:limit]
    return items, (_encode_cursor(items[-1]) if len(rows) > limit else None)


def _encode_cursor(payment: Payment) -> str:
    raw = json.dumps([payment.created_at.isoformat(), str(payment.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, payment_id = json.loads(raw)
        return supported_moment(datetime.fromisoformat(created_at)), uuid.UUID(payment_id)
    except (binascii.Error, ValueError, TypeError) as e:
        raise InvalidCursor(
            "cursor must be the next_cursor value of a previous page, unchanged"
        ) from e


async def resume_overdue(session: AsyncSession, *, settings: Settings, limit: int = 500) -> int:
    """Re-enqueue the next push or query of every open payment whose job is overdue (lost in a
    worker restart or a Redis loss). The jobs check the attempt or step, so a job that still
    exists somewhere makes the duplicate a no-op."""
    older_than = utcnow() - timedelta(seconds=settings.scaled(settings.SWEEP_GRACE_S))
    overdue = await repository.overdue(session, older_than=older_than, limit=limit)
    for item in overdue:
        if item.status == S.pending:
            attempt = item.push_attempts + 1
            enqueue_after_commit(
                session, PUSH_TASK, str(item.id), attempt, _job_id=f"push:{item.id}:{attempt}:sweep"
            )
        else:
            enqueue_after_commit(
                session,
                POLL_TASK,
                str(item.id),
                item.poll_step,
                _job_id=f"poll:{item.id}:{item.poll_step}:sweep",
            )
    if overdue:
        log.info("payments_resumed", count=len(overdue))
    return len(overdue)
