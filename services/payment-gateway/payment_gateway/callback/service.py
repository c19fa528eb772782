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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway import metrics
from payment_gateway.callback import apply, proof
from payment_gateway.callback.apply import Result
from payment_gateway.callback.exceptions import UnknownCallback
from payment_gateway.callback.proof import Confirmation
from payment_gateway.callback.repository import CallbackInboxRepository
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import CallbackParseError, parse_stk_callback
from payment_gateway.models import CallbackInbox, CallbackOutcome
from payment_gateway.payment import monitoring
from payment_gateway.payment.repository import PaymentRepository
from shared.db import utcnow
from shared.jobs import enqueue_after_commit

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
    stored = await CallbackInboxRepository.store(
        pool,
        token_hash=monitoring.token_hash(token),
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
class Attempt:
    """One attempt at a stored callback, counted before anything else happens."""

    number: int
    final: bool
    query: str | None  # what to ask STK Query before processing
    # The payment's Daraja environment: it is asked there, whichever environment is active now.
    environment: str | None = None


async def start_attempt(
    session: AsyncSession, *, inbox_id: int, settings: Settings
) -> Attempt | None:
    """Count an attempt at an unprocessed callback and say what to ask Daraja first; None when
    it was processed already. Counted in its own transaction, so a crash counts too."""
    inbox = await CallbackInboxRepository.from_session(session).count_attempt(inbox_id)
    if inbox is None:
        return None
    number = inbox.attempts
    final = number >= settings.CALLBACK_PROCESS_MAX_ATTEMPTS
    payment = await PaymentRepository.from_session(session).get(inbox.payment_id)
    if payment is None:
        return Attempt(number, final, query=None)
    try:
        callback = parse_stk_callback(inbox.body)
    except CallbackParseError:
        return Attempt(number, final, query=None)
    plan = await proof.plan(
        session, inbox=inbox, payment=payment, callback=callback, settings=settings
    )
    return Attempt(
        number, final, query=None if plan.stop else plan.query, environment=payment.environment
    )


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
    final_attempt: bool = True,
) -> Processed | None:
    """Apply one stored callback; None when it was processed already (or is being processed).
    Raises `ConfirmationPending` while Daraja cannot tell and this is not the final attempt."""
    inbox = await CallbackInboxRepository.from_session(session).lock_unprocessed(inbox_id)
    if inbox is None:
        return None
    try:
        callback = parse_stk_callback(inbox.body)
    except CallbackParseError as e:
        result = Result(CallbackOutcome.invalid, None, str(e)[:500])
    else:
        payment = await PaymentRepository.from_session(session).lock(inbox.payment_id)
        assert payment is not None  # the inbox row references it
        plan = await proof.plan(
            session, inbox=inbox, payment=payment, callback=callback, settings=settings
        )
        result = await apply.apply(
            session,
            inbox=inbox,
            payment=payment,
            callback=callback,
            plan=plan,
            confirmation=confirmation,
            final_attempt=final_attempt,
            settings=settings,
        )
    await _finish(session, inbox=inbox, result=result)
    return Processed(
        result.outcome,
        settled=result.outcome == CallbackOutcome.applied,
        received_at=inbox.received_at,
    )


async def _finish(session: AsyncSession, *, inbox: CallbackInbox, result: Result) -> None:
    await CallbackInboxRepository.from_session(session).mark(
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
    inbox = await CallbackInboxRepository.from_session(session).lock_unprocessed(inbox_id)
    if inbox is None:
        return False
    note = f"gave up after {attempts} attempts: {error}"
    await _finish(session, inbox=inbox, result=Result(CallbackOutcome.error, None, note))
    log.error("callback_gave_up", callback_id=inbox_id, attempts=attempts, error=error[:300])
    return True


def process_job(inbox_id: int, *, namespace: str) -> dict[str, Any]:
    """arq options for processing one stored callback: every worker hears the announcement, the
    job id lets only one of them queue it (namespaced: arq job ids share one key space)."""
    return {"_job_id": f"{namespace}:callback:{inbox_id}"}


async def requeue_unprocessed(session: AsyncSession, *, settings: Settings) -> int:
    """Re-enqueue stored callbacks that nobody processed (a missed announcement, a lost job)."""
    older_than = utcnow() - timedelta(seconds=settings.scaled(settings.SWEEP_GRACE_S))
    ids = await CallbackInboxRepository.from_session(session).unprocessed(
        older_than=older_than, limit=settings.SWEEP_BATCH_SIZE
    )
    for inbox_id in ids:
        enqueue_after_commit(
            session, PROCESS_TASK, inbox_id, **process_job(inbox_id, namespace=settings.NAMESPACE)
        )
    return len(ids)
