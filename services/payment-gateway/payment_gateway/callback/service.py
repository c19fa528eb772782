"""The STK callback inbox: the API stores the raw body (announcing it to the workers in the same
statement) and answers Daraja; a worker processes it under the payment's row lock.

Daraja signs nothing, so a callback is trusted only as far as its unguessable per-push URL (and
the optional source allow-list) and its agreement with what was asked: a success for another
amount or phone is held for review, never credited."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway import metrics
from payment_gateway.callback import repository
from payment_gateway.callback.exceptions import UnknownCallback
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import (
    CallbackParseError,
    DarajaError,
    StkCallback,
    StkQueryResult,
    outcome_for,
    parse_stk_callback,
)
from payment_gateway.models import CallbackInbox, Payment
from payment_gateway.payment import repository as payment_repository
from payment_gateway.payment import service as payment_service
from shared.db import utcnow
from shared.worker import enqueue_after_commit

log = structlog.get_logger(__name__)

PROCESS_TASK = "callback.process"


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


@dataclass(frozen=True)
class Confirmation:
    """What STK Query said about a success callback before it is credited."""

    answer: StkQueryResult | DarajaError
    final_attempt: bool

    @property
    def says(self) -> str | None:
        """Daraja's final result code, or None while it cannot tell (processing, unreachable)."""
        if isinstance(self.answer, StkQueryResult) and not self.answer.pending:
            return self.answer.result_code
        return None


class ConfirmationPending(Exception):
    """STK Query cannot confirm the success yet; processing is to be tried again later."""


async def success_to_confirm(session: AsyncSession, *, inbox_id: int) -> str | None:
    """The CheckoutRequestID to confirm by query, if this unprocessed callback claims a payment."""
    inbox = await repository.get_unprocessed(session, inbox_id)
    if inbox is None:
        return None
    try:
        callback = parse_stk_callback(inbox.body)
    except CallbackParseError:
        return None
    return callback.checkout_request_id if callback.is_success else None


@dataclass(frozen=True)
class Processed:
    outcome: str
    settled: bool
    received_at: datetime


async def process(
    session: AsyncSession,
    *,
    inbox_id: int,
    settings: Settings,
    confirmation: Confirmation | None = None,
) -> Processed | None:
    """Apply one stored callback; None when it was processed already (or is being processed)."""
    inbox = await repository.lock_unprocessed(session, inbox_id)
    if inbox is None:
        return None
    try:
        callback = parse_stk_callback(inbox.body)
    except CallbackParseError as e:
        await _finish(session, inbox, "invalid", str(e)[:500])
        return Processed("invalid", settled=False, received_at=inbox.received_at)
    payment = await payment_repository.lock(session, inbox.payment_id)
    assert payment is not None  # the inbox row references it
    outcome, note = await _apply(
        session, payment, callback, settings=settings, confirmation=confirmation
    )
    await _finish(session, inbox, outcome, note)
    return Processed(outcome, settled=outcome == "applied", received_at=inbox.received_at)


async def _apply(
    session: AsyncSession,
    payment: Payment,
    callback: StkCallback,
    *,
    settings: Settings,
    confirmation: Confirmation | None,
) -> tuple[str, str | None]:
    detail: dict[str, Any] = {
        "checkout_request_id": callback.checkout_request_id,
        "result_code": callback.result_code,
    }
    other_push = (
        payment.checkout_request_id is not None
        and callback.checkout_request_id != payment.checkout_request_id
    )
    if payment.review_reason is not None:
        return "ignored", f"payment held for review ({payment.review_reason})"
    if callback.result_code == "0" and not callback.is_success:
        # "Paid" without a receipt proves nothing; polling keeps asking Daraja.
        return "ignored", "result code 0 without a receipt number"
    if callback.is_success:
        mismatch = _mismatch(payment, callback)
        if mismatch is not None:
            review_reason, note = mismatch
            await payment_service.hold(
                session,
                payment,
                review_reason=review_reason,
                actor=payment_service.CALLBACK,
                detail={**detail, "note": note, "receipt_number": callback.receipt_number},
            )
            return "held", note
        if settings.CALLBACK_CONFIRM_BY_QUERY:
            unconfirmed = _unconfirmed(confirmation)
            if unconfirmed is not None:
                review_reason, note = unconfirmed
                await payment_service.hold(
                    session,
                    payment,
                    review_reason=review_reason,
                    actor=payment_service.CALLBACK,
                    detail={**detail, "note": note, "receipt_number": callback.receipt_number},
                )
                return "held", note
            detail["confirmed_by_query"] = True
        if other_push:
            detail["other_push"] = True  # an earlier push whose answer was lost: still money in
    elif other_push:
        return "ignored", (
            f"a failure for push {callback.checkout_request_id}, not the current push "
            f"{payment.checkout_request_id}"
        )
    if payment.checkout_request_id is None:
        payment.checkout_request_id = callback.checkout_request_id
        payment.merchant_request_id = callback.merchant_request_id
    settlement = await payment_service.settle(
        session,
        payment,
        outcome=outcome_for(callback.result_code),
        result_desc=callback.result_desc,
        receipt=callback.receipt_number if callback.is_success else None,
        actor=payment_service.CALLBACK,
        detail=detail,
        settings=settings,
    )
    if settlement == "contradiction":
        log.warning(
            "callback_contradiction",
            payment_id=str(payment.id),
            status=payment.status,
            result_code=callback.result_code,
        )
        return "contradiction", f"payment is {payment.status}; callback says {callback.result_code}"
    return settlement, None


def _unconfirmed(confirmation: Confirmation | None) -> tuple[str, str] | None:
    """Why STK Query does not back a success callback, or None when it does; raises
    `ConfirmationPending` while it cannot tell yet and attempts remain."""
    says = confirmation.says if confirmation else None
    if says == "0":
        return None
    if says is not None:
        return "query_disagrees", f"STK Query answers {says} for a success callback"
    if confirmation is None or not confirmation.final_attempt:
        raise ConfirmationPending
    return "unconfirmed", "STK Query never confirmed the success callback"


def _mismatch(payment: Payment, callback: StkCallback) -> tuple[str, str] | None:
    if callback.amount != payment.amount:
        return "amount_mismatch", f"asked KES {payment.amount}, callback says {callback.amount}"
    if callback.phone is not None and str(callback.phone) != payment.phone:
        return "phone_mismatch", "the callback's phone is not the one the prompt went to"
    return None


async def _finish(
    session: AsyncSession, inbox: CallbackInbox, outcome: str, note: str | None
) -> None:
    await repository.mark(session, inbox=inbox, outcome=outcome, note=note)
    metrics.CALLBACKS.labels(outcome).inc()


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
