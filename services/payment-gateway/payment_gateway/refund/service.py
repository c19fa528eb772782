"""Refunds through M-Pesa Reversal.

Staff ask (`request`): the payment becomes `refund_pending` and a job sends the Reversal. Each
request to Daraja sits between two units of work, like an STK push: claim the attempt and commit
(`prepare`), call Daraja outside any transaction (`send`), record what it said (`record_sent`).
Daraja answers later at a ResultURL whose secret names the refund; the result goes through the
result inbox (`receive`, then `process` in a job) and ends the refund `refunded` or `failed`,
the payment `refunded` or `refund_failed`. Transient errors and results that time out in
Daraja's queue are tried again with backoff: only a result code is a verdict. Sending again is
safe because a Reversal of a reversed transaction answers `R000001`, which counts as refunded.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.audit import service as audit
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import (
    DarajaClient,
    DarajaError,
    ResultAck,
    ResultParseError,
    parse_result,
    reversal_outcome,
)
from payment_gateway.models import Payment, PaymentStatus, Refund, RefundState
from payment_gateway.payment import lifecycle, messages
from payment_gateway.payment.exceptions import PaymentNotFound
from payment_gateway.payment.monitoring import token_hash
from payment_gateway.payment.repository import PaymentRepository
from payment_gateway.reconciliation import status
from payment_gateway.reconciliation.inbox_repository import ResultInboxRepository
from payment_gateway.refund.exceptions import NotRefundable, UnknownReversalUrl
from payment_gateway.refund.repository import RefundRepository
from shared.db import utcnow
from shared.jobs import enqueue_after_commit
from shared.worker import backoff_seconds

log = structlog.get_logger(__name__)

S = PaymentStatus
R = RefundState
REVERSE_TASK = "refund.reverse"
RESULT_TASK = "refund.result"


def result_url(settings: Settings, token: str) -> str:
    # Hex cannot spell a word Daraja refuses in a URL.
    return f"{settings.PUBLIC_BASE_URL}/v1/callbacks/reversal/{token}"


async def request(
    session: AsyncSession,
    *,
    payment_id: uuid.UUID,
    reason: str,
    actor: lifecycle.Actor,
    settings: Settings,
) -> tuple[Refund, Payment, bool]:
    """The payment's refund and whether this call made it: a payment is refunded once, so
    asking again answers with the refund there is (and sends nothing to Daraja)."""
    payment = await PaymentRepository.from_session(session).lock(payment_id)
    if payment is None:
        raise PaymentNotFound(f"no payment {payment_id}")
    refunds = RefundRepository.from_session(session)
    existing = await refunds.for_payment(payment.id)
    if existing is not None:
        return existing, payment, False
    if payment.status != S.completed:
        raise NotRefundable(
            f"payment {payment.id} is {payment.status}; only a completed payment can be refunded"
        )
    if not payment.receipt_number:
        raise NotRefundable(
            f"payment {payment.id} is completed but its M-Pesa receipt is not known yet; "
            "a Reversal needs it: try again once the receipt is recorded"
        )
    now = utcnow()
    refund = await refunds.create(
        Refund(
            id=uuid.uuid4(),
            payment_id=payment.id,
            state=R.requested,
            amount=payment.amount,
            receipt_number=payment.receipt_number,
            reason=reason,
            requested_by=actor.name,
            attempts=0,
            next_attempt_at=now + timedelta(seconds=settings.scaled(settings.SWEEP_GRACE_S)),
            created_at=now,
            updated_at=now,
        ),
        flush=True,
    )
    await lifecycle.transition(
        session,
        payment=payment,
        to=S.refund_pending,
        actor=actor,
        customer_message=messages.REFUND_PENDING,
        detail={**actor.detail(), "refund_id": str(refund.id)},
        note=reason,
        settings=settings,
    )
    _enqueue(session, refund=refund, attempt=1, delay=0, settings=settings)
    # Not the reason: staff's free text may name the customer, and the trail outlives erasure.
    await audit.record(
        session,
        action="payment.refund_requested",
        actor=actor.name,
        subject=f"payment:{payment.id}",
        details={"refund_id": refund.id, "amount": refund.amount, "via": actor.via},
    )
    log.info("refund_requested", payment_id=str(payment.id), refund_id=str(refund.id))
    return refund, payment, True


async def get(session: AsyncSession, *, payment_id: uuid.UUID) -> tuple[Refund, Payment] | None:
    refund = await RefundRepository.from_session(session).for_payment(payment_id)
    if refund is None:
        return None
    payment = await PaymentRepository.from_session(session).get(payment_id)
    assert payment is not None  # the refund references it
    return refund, payment


def _enqueue(
    session: AsyncSession, *, refund: Refund, attempt: int, delay: float, settings: Settings
) -> None:
    options: dict[str, Any] = {"_job_id": f"{settings.NAMESPACE}:reverse:{refund.id}:{attempt}"}
    if delay > 0:
        options["_defer_by"] = delay
    enqueue_after_commit(session, REVERSE_TASK, str(refund.id), attempt, **options)


def _retry_delay(attempt: int, settings: Settings) -> float:
    return settings.scaled(
        backoff_seconds(
            attempt, base_s=settings.REVERSAL_RETRY_BASE_S, cap_s=settings.REVERSAL_RETRY_CAP_S
        )
    )


@dataclass(frozen=True)
class ReversalOrder:
    """Everything one Reversal request needs, read inside a transaction, used after it."""

    refund_id: uuid.UUID
    attempt: int
    receipt: str
    amount: int
    token: str
    # The payment's own environment: its money moved there, so its Reversal goes there too.
    environment: str


async def prepare(
    session: AsyncSession, *, refund_id: uuid.UUID, attempt: int, settings: Settings
) -> ReversalOrder | None:
    """Claim request `attempt` of an open refund; None if it is not due (finished, or another
    job made this attempt)."""
    refund = await RefundRepository.from_session(session).lock(refund_id)
    if refund is None or refund.state not in (R.requested, R.asked):
        return None
    if refund.attempts != attempt - 1:
        return None
    if attempt > settings.REVERSAL_MAX_ATTEMPTS:
        # Only the sweep goes past the last attempt, for a result that never came.
        await _finish(
            session,
            refund=refund,
            refunded=False,
            reason="no_result",
            result_code=None,
            result_desc=f"no Reversal result after {refund.attempts} requests",
            transaction_id=None,
            actor=lifecycle.SYSTEM,
            settings=settings,
        )
        return None
    token = secrets.token_hex(20)
    now = utcnow()
    refund.attempts = attempt
    refund.state = R.requested
    refund.token_hash = token_hash(token)
    # In flight: the sweep leaves it alone until the call must have ended.
    seconds = settings.DARAJA_CONNECT_TIMEOUT_S + settings.DARAJA_READ_TIMEOUT_S
    refund.next_attempt_at = now + timedelta(
        seconds=seconds + settings.scaled(settings.SWEEP_GRACE_S)
    )
    refund.updated_at = now
    payment = await session.get(Payment, refund.payment_id)
    environment = payment.environment if payment is not None else settings.DARAJA_ENVIRONMENT
    return ReversalOrder(
        refund.id, attempt, refund.receipt_number, refund.amount, token, environment
    )


async def send(
    daraja: DarajaClient, *, order: ReversalOrder, settings: Settings
) -> ResultAck | DarajaError:
    """The Reversal request, outside any transaction. Never raises a Daraja error."""
    url = result_url(settings, order.token)
    try:
        return await daraja.reversal(
            transaction_id=order.receipt,
            amount=order.amount,
            result_url=url,
            timeout_url=f"{url}/timeout",
            # Stored credentials carry their own initiator; settings are the bootstrap.
            initiator=daraja.config.initiator_name or settings.REVERSAL_INITIATOR,
            security_credential=(
                daraja.config.security_credential or settings.REVERSAL_SECURITY_CREDENTIAL
            ).get_secret_value(),
        )
    except DarajaError as e:
        return e


async def record_sent(
    session: AsyncSession,
    *,
    order: ReversalOrder,
    result: ResultAck | DarajaError,
    settings: Settings,
) -> str:
    """Store what the request achieved: waiting for the result; another attempt after a
    transient error; `failed` for a refusal or when attempts run out."""
    refund = await RefundRepository.from_session(session).lock(order.refund_id)
    if refund is None or refund.state != R.requested or refund.attempts != order.attempt:
        return "superseded"
    now = utcnow()
    refund.updated_at = now
    if isinstance(result, ResultAck):
        refund.state = R.asked
        refund.conversation_id = result.conversation_id
        refund.originator_conversation_id = result.originator_conversation_id
        refund.next_attempt_at = now + timedelta(
            seconds=settings.scaled(settings.REVERSAL_RESULT_WAIT_S)
        )
        return R.asked
    log.warning(
        "reversal_not_taken", refund_id=str(refund.id), attempt=order.attempt, error=str(result)
    )
    if result.retryable and order.attempt < settings.REVERSAL_MAX_ATTEMPTS:
        _again(session, refund=refund, settings=settings)
        return R.requested
    await _finish(
        session,
        refund=refund,
        refunded=False,
        reason="daraja_unavailable" if result.retryable else "daraja_rejected",
        result_code=result.error_code,
        result_desc=result.message[:500],
        transaction_id=None,
        actor=lifecycle.SYSTEM,
        settings=settings,
    )
    return R.failed


def _again(session: AsyncSession, *, refund: Refund, settings: Settings) -> None:
    delay = _retry_delay(refund.attempts, settings)
    refund.state = R.requested
    refund.next_attempt_at = utcnow() + timedelta(
        seconds=delay + settings.scaled(settings.SWEEP_GRACE_S)
    )
    _enqueue(session, refund=refund, attempt=refund.attempts + 1, delay=delay, settings=settings)


async def _finish(
    session: AsyncSession,
    *,
    refund: Refund,
    refunded: bool,
    reason: str,
    result_code: str | None,
    result_desc: str | None,
    transaction_id: str | None,
    actor: lifecycle.Actor,
    settings: Settings,
) -> None:
    """End the refund and move its payment to `refunded` or `refund_failed`."""
    now = utcnow()
    refund.state = R.refunded if refunded else R.failed
    refund.failure_reason = None if refunded else reason
    refund.result_code = result_code
    refund.result_desc = result_desc
    refund.reversal_transaction_id = transaction_id
    refund.next_attempt_at = None
    refund.finished_at = now
    refund.updated_at = now
    payment = await PaymentRepository.from_session(session).lock(refund.payment_id)
    assert payment is not None  # the refund references it
    detail = {
        "refund_id": str(refund.id),
        "attempts": refund.attempts,
        "reversal_transaction_id": transaction_id,
        "reversal_result": reason,
    }
    if payment.status != S.refund_pending:
        # Nothing else moves a payment out of refund_pending; kept visible if it ever happens.
        await lifecycle.note(
            session, payment=payment, reason="refund_result_ignored", actor=actor, detail=detail
        )
        return
    await lifecycle.transition(
        session,
        payment=payment,
        to=S.refunded if refunded else S.refund_failed,
        actor=actor,
        reason=None if refunded else reason,
        result_code=result_code,
        result_desc=result_desc,
        customer_message=messages.refunded(refund.amount) if refunded else messages.REFUND_FAILED,
        detail=detail,
        settings=settings,
    )
    log.info("refund_finished", refund_id=str(refund.id), state=refund.state, reason=reason)


# The inbox: stored as received, applied by a job.


async def receive(
    session: AsyncSession, *, token: str, kind: str, body: bytes, settings: Settings
) -> None:
    """Store a Reversal result for a request we made (`UnknownReversalUrl` otherwise) and
    queue it."""
    hashed = token_hash(token)
    if not await RefundRepository.from_session(session).exists_for_token(hashed):
        raise UnknownReversalUrl("no refund expects a Reversal result at this address")
    await status.store_result(
        session,
        hashed_token=hashed,
        kind=kind,
        body=body,
        dedupe_prefix="reversal:",
        task=RESULT_TASK,
        job_id_prefix=f"{settings.NAMESPACE}:reversal",
    )


async def process(session: AsyncSession, *, inbox_id: int, settings: Settings) -> str | None:
    """Apply one stored Reversal result to its refund; None when it was processed already."""
    inbox = await ResultInboxRepository.from_session(session).lock_unprocessed(inbox_id)
    if inbox is None:
        return None
    refund = await RefundRepository.from_session(session).lock_by_token(inbox.token_hash)
    outcome, note = "ignored", None
    if refund is None or refund.state not in (R.requested, R.asked):
        note = "no open refund waits for this result"
    elif inbox.kind == "timeout":
        # Daraja's queue gave up on the request: no verdict about the money, so ask again.
        outcome = await _timed_out(session, refund=refund, settings=settings)
    else:
        try:
            result = parse_result(inbox.body)
        except ResultParseError as e:
            note = str(e)
        else:
            verdict = reversal_outcome(result.result_code)
            await _finish(
                session,
                refund=refund,
                refunded=verdict.status == "refunded",
                reason=verdict.reason,
                result_code=result.result_code,
                result_desc=result.result_desc or None,
                transaction_id=result.transaction_id,
                actor=lifecycle.CALLBACK,
                settings=settings,
            )
            outcome = refund.state
    inbox.processed_at = utcnow()
    inbox.outcome = outcome
    inbox.note = note
    await session.flush()
    return outcome


async def _timed_out(session: AsyncSession, *, refund: Refund, settings: Settings) -> str:
    if refund.attempts < settings.REVERSAL_MAX_ATTEMPTS:
        _again(session, refund=refund, settings=settings)
        return "timed_out"
    await _finish(
        session,
        refund=refund,
        refunded=False,
        reason="no_result",
        result_code=None,
        result_desc=f"no Reversal result after {refund.attempts} requests",
        transaction_id=None,
        actor=lifecycle.SYSTEM,
        settings=settings,
    )
    return R.failed


async def resume_overdue(session: AsyncSession, *, settings: Settings) -> int:
    """Send again every open refund that should have moved on by now. The job checks the
    attempt, so a job that still exists makes the duplicate a no-op."""
    older_than = utcnow() - timedelta(seconds=settings.scaled(settings.SWEEP_GRACE_S))
    overdue = await RefundRepository.from_session(session).overdue(
        older_than=older_than, limit=settings.SWEEP_BATCH_SIZE
    )
    for refund_id, attempts in overdue:
        attempt = attempts + 1
        enqueue_after_commit(
            session,
            REVERSE_TASK,
            str(refund_id),
            attempt,
            _job_id=f"{settings.NAMESPACE}:reverse:{refund_id}:{attempt}:sweep",
        )
    if overdue:
        log.info("refunds_resumed", count=len(overdue))
    return len(overdue)
