"""Watching a payment until Daraja gives its final answer: the push and its retries, the polling
schedule, and the sweep that resumes monitoring after a restart.

Each Daraja call sits between two units of work: the caller commits what it decided, calls
Daraja outside any transaction (`push`, `query` never raise a Daraja error), then records the
answer (`record_push`, `record_poll`) under the payment's row lock.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway import metrics
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import (
    DarajaClient,
    DarajaError,
    DarajaRateLimited,
    DarajaSubscriberBusy,
    DarajaUnavailable,
    StkPushAccepted,
    StkQueryResult,
    outcome_for,
    outcome_for_no_answer,
    outcome_for_rejection,
    outcome_for_unreachable,
)
from payment_gateway.models import CallbackToken, Payment, PaymentPoll, PaymentStatus
from payment_gateway.payment import lifecycle, messages
from payment_gateway.payment.exceptions import PaymentNotFound
from payment_gateway.payment.repository import (
    CallbackTokenRepository,
    PaymentPollRepository,
    PaymentRepository,
)
from shared.db import utcnow
from shared.jobs import enqueue_after_commit
from shared.worker import backoff_seconds

log = structlog.get_logger(__name__)

PUSH_TASK = "payment.push"
POLL_TASK = "payment.poll"

S = PaymentStatus


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def callback_url(settings: Settings, token: str, *, base_url: str | None = None) -> str:
    """``base_url``: the callback base URL stored with the environment's credentials."""
    # Hex cannot spell any word Daraja refuses in a CallBackURL (mpesa, query, sql, exec, cmd).
    return f"{base_url or settings.PUBLIC_BASE_URL}/v1/callbacks/stk/{token}"


def inflight_deadline(settings: Settings) -> datetime:
    """When a push that is being made right now must have finished; only after it does the
    sweep consider the payment's push lost."""
    seconds = settings.DARAJA_CONNECT_TIMEOUT_S + settings.DARAJA_READ_TIMEOUT_S
    return utcnow() + timedelta(seconds=seconds + settings.scaled(settings.SWEEP_GRACE_S))


async def new_token(session: AsyncSession, *, payment: Payment, attempt: int) -> str:
    """The secret of push `attempt`'s CallBackURL; only its hash is stored."""
    token = secrets.token_hex(20)
    await CallbackTokenRepository.from_session(session).create(
        CallbackToken(token_hash=token_hash(token), payment_id=payment.id, push_attempt=attempt),
        flush=True,
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
    environment: str

    @classmethod
    def of(cls, payment: Payment, token: str) -> PushOrder:
        return cls(
            payment_id=payment.id,
            attempt=payment.push_attempts,
            phone=payment.phone,
            amount=payment.amount,
            account_reference=payment.account_reference,
            description=payment.description,
            token=token,
            environment=payment.environment,
        )


async def prepare_retry(
    session: AsyncSession, *, payment_id: uuid.UUID, attempt: int, settings: Settings
) -> PushOrder | None:
    """Claim push `attempt` of a still-pending payment; None if it is no longer due (settled
    meanwhile, or another job made this attempt)."""
    payment = await PaymentRepository.from_session(session).lock(payment_id)
    if payment is None or payment.status != S.pending or payment.push_attempts != attempt - 1:
        return None
    payment.push_attempts = attempt
    payment.next_check_at = inflight_deadline(settings)
    payment.updated_at = utcnow()
    token = await new_token(session, payment=payment, attempt=attempt)
    return PushOrder.of(payment, token)


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
            callback_url=callback_url(
                settings, order.token, base_url=daraja.config.callback_base_url
            ),
        )
    except DarajaError as e:
        return e


async def record_push(
    session: AsyncSession,
    *,
    order: PushOrder,
    result: StkPushAccepted | DarajaError,
    actor: lifecycle.Actor,
    settings: Settings,
) -> Payment:
    """Store what the push achieved: `sent` and the polling schedule; a retry for a transient
    failure; `failed` for a rejection or when retries run out."""
    payment = await PaymentRepository.from_session(session).lock(order.payment_id)
    if payment is None:
        raise PaymentNotFound(f"payment {order.payment_id} disappeared during its push")
    if isinstance(result, StkPushAccepted):
        await _accepted(
            session, payment=payment, order=order, accepted=result, actor=actor, settings=settings
        )
    elif payment.status != S.pending:
        pass  # a callback settled it meanwhile; the error no longer matters
    elif not result.retryable or order.attempt >= settings.PUSH_MAX_ATTEMPTS:
        await _push_failed(
            session, payment=payment, order=order, error=result, actor=actor, settings=settings
        )
    else:
        _retry_push(session, payment=payment, order=order, error=result, settings=settings)
    return payment


async def _accepted(
    session: AsyncSession,
    *,
    payment: Payment,
    order: PushOrder,
    accepted: StkPushAccepted,
    actor: lifecycle.Actor,
    settings: Settings,
) -> None:
    if payment.checkout_request_id is None:
        payment.checkout_request_id = accepted.checkout_request_id
        payment.merchant_request_id = accepted.merchant_request_id
    if payment.pushed_at is None:
        payment.pushed_at = utcnow()
    if payment.status != S.pending:
        return
    await lifecycle.transition(
        session,
        payment=payment,
        to=S.sent,
        actor=actor,
        customer_message=messages.sent(payment.amount),
        detail={"checkout_request_id": accepted.checkout_request_id, "attempt": order.attempt},
        settings=settings,
    )
    schedule_poll(session, payment=payment, step=0, settings=settings)


async def _push_failed(
    session: AsyncSession,
    *,
    payment: Payment,
    order: PushOrder,
    error: DarajaError,
    actor: lifecycle.Actor,
    settings: Settings,
) -> None:
    if error.retryable and not isinstance(error, DarajaSubscriberBusy):
        outcome = outcome_for_unreachable(error)
    else:
        outcome = outcome_for_rejection(error)
    await lifecycle.transition(
        session,
        payment=payment,
        to=S.failed,
        actor=actor,
        reason=outcome.reason,
        result_code=error.error_code,
        result_desc=error.message[:500],
        customer_message=messages.for_reason(outcome.reason),
        detail=_error_detail(order, error),
        settings=settings,
    )


def _error_detail(order: PushOrder, error: DarajaError) -> dict[str, Any]:
    return {
        "attempt": order.attempt,
        "error": type(error).__name__,
        "error_code": error.error_code,
        "message": error.message[:300],
    }


def _retry_push(
    session: AsyncSession,
    *,
    payment: Payment,
    order: PushOrder,
    error: DarajaError,
    settings: Settings,
) -> None:
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
    now = utcnow()
    payment.customer_message = messages.RETRYING
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


def schedule_poll(
    session: AsyncSession, *, payment: Payment, step: int, settings: Settings
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


@dataclass(frozen=True)
class PollTarget:
    """What a poll asks Daraja about, and in which environment (the payment's own)."""

    checkout_request_id: str
    environment: str


async def checkout_to_poll(
    session: AsyncSession, *, payment_id: uuid.UUID, step: int
) -> PollTarget | None:
    """The CheckoutRequestID to query if poll `step` of this payment is still due."""
    payment = await PaymentRepository.from_session(session).get(payment_id)
    if (
        payment is None
        or payment.status != S.sent
        or payment.poll_step != step
        or payment.review_reason is not None
    ):
        return None
    if payment.checkout_request_id is None:
        return None
    return PollTarget(
        checkout_request_id=payment.checkout_request_id, environment=payment.environment
    )


async def query(daraja: DarajaClient, *, checkout_request_id: str) -> StkQueryResult | DarajaError:
    """STK Query outside any transaction. Never raises a Daraja error."""
    try:
        return await daraja.stk_query(checkout_request_id)
    except DarajaError as e:
        return e


async def log_poll(
    session: AsyncSession,
    *,
    payment_id: uuid.UUID,
    step: int | None,
    actor: str,
    result: StkQueryResult | DarajaError,
) -> None:
    """Keep the query and its answer for the payment's timeline, pending answers included."""
    if isinstance(result, StkQueryResult):
        poll = PaymentPoll(
            payment_id=payment_id,
            step=step,
            actor=actor,
            result_code=result.result_code,
            result_desc=result.result_desc[:500],
        )
    else:
        poll = PaymentPoll(
            payment_id=payment_id,
            step=step,
            actor=actor,
            error=f"{type(result).__name__}: {result.message}"[:500],
        )
    await PaymentPollRepository.from_session(session).create(poll)


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
    payment = await PaymentRepository.from_session(session).lock(payment_id)
    if payment is None:
        return None
    # Kept even when a callback settled the payment while Daraja was being asked: it was asked.
    await log_poll(
        session, payment_id=payment_id, step=step, actor=lifecycle.POLLER.name, result=result
    )
    if payment.status != S.sent or payment.poll_step != step:
        return payment
    if payment.review_reason is not None:
        return payment
    if isinstance(result, StkQueryResult) and not result.pending and result.result_code is not None:
        await lifecycle.settle(
            session,
            payment=payment,
            outcome=outcome_for(result.result_code),
            result_desc=result.result_desc,
            receipt=None,
            actor=lifecycle.POLLER,
            detail={"step": step},
            settings=settings,
        )
        return payment
    if step + 1 < len(settings.POLL_SCHEDULE_S):
        schedule_poll(session, payment=payment, step=step + 1, settings=settings)
        return payment
    outcome = outcome_for_no_answer()
    last = result.result_desc if isinstance(result, StkQueryResult) else str(result)
    await lifecycle.transition(
        session,
        payment=payment,
        to=S.timeout,
        actor=lifecycle.POLLER,
        reason=outcome.reason,
        result_desc=last[:500],
        customer_message=messages.for_reason(outcome.reason),
        detail={"step": step, "polls": len(settings.POLL_SCHEDULE_S)},
        settings=settings,
    )
    return payment


async def resume_overdue(session: AsyncSession, *, settings: Settings) -> int:
    """Re-enqueue the next push or query of every open payment whose job is overdue (lost in a
    worker restart or a Redis loss). The jobs check the attempt or step, so a job that still
    exists somewhere makes the duplicate a no-op."""
    older_than = utcnow() - timedelta(seconds=settings.scaled(settings.SWEEP_GRACE_S))
    overdue = await PaymentRepository.from_session(session).overdue(
        older_than=older_than, limit=settings.SWEEP_BATCH_SIZE
    )
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
