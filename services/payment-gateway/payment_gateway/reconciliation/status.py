"""Transaction Status for a run: asked about each payment of the window (by receipt, or by the
push's CheckoutRequestID as OriginalConversationID), answered later at a ResultURL whose secret
token names the request. Results go through an inbox like every callback: stored as received,
then applied by a job. A result at the QueueTimeOutURL is not a verdict: the request is asked
again (up to `RECONCILIATION_STATUS_MAX_ATTEMPTS`). The run waits for the results up to
`RECONCILIATION_STATUS_WAIT_S`, then judges with what it has. After the window's payments,
it asks again about the completed payments earlier runs got no answer about (left pending
verification), whatever their window: `runs.py` judges them in its `carried` phase."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import (
    DarajaClient,
    DarajaError,
    ResultParseError,
    TransactionResult,
    parse_daraja_timestamp,
    parse_result,
)
from payment_gateway.models import (
    PaymentStatus,
    ReconciliationRun,
    RecordSource,
    StatusQuery,
    StatusQueryState,
)
from payment_gateway.payment.monitoring import token_hash
from payment_gateway.reconciliation import collect
from payment_gateway.reconciliation.exceptions import ResultsPending, UnknownResultUrl
from payment_gateway.reconciliation.inbox_repository import (
    ResultInboxRepository,
    StatusQueryRepository,
)
from payment_gateway.reconciliation.ledger_repository import LedgerPaymentRepository
from payment_gateway.reconciliation.repository import (
    RecordRepository,
    RunRepository,
)
from shared import db
from shared.db import utcnow
from shared.jobs import enqueue_after_commit

log = structlog.get_logger(__name__)

S = StatusQueryState
RESULT_TASK = "reconciliation.result"
# The asking phase's second part: completed payments of earlier windows that earlier runs left
# pending verification (no answer) are asked again (each once per run).
CARRIED = "carried"
ASKED_ABOUT = (
    PaymentStatus.pending,
    PaymentStatus.sent,
    PaymentStatus.timeout,
    PaymentStatus.completed,
)


def result_url(settings: Settings, token: str) -> str:
    # Hex cannot spell a word Daraja refuses in a URL.
    return f"{settings.PUBLIC_BASE_URL}/v1/callbacks/result/{token}"


@dataclass(frozen=True)
class Ask:
    query_id: int
    token: str
    receipt: str | None
    checkout_request_id: str | None


async def ask_batch(
    session: AsyncSession, *, run: ReconciliationRun, daraja: DarajaClient, settings: Settings
) -> None:
    """Record a request for each payment of the next batch, commit, ask Daraja, record what it
    acknowledged. A request Daraja could not take is asked again while the run waits."""
    checkpoint = dict(run.checkpoint)
    after = checkpoint.get("after")
    ledger = LedgerPaymentRepository.from_session(session)
    carrying = after == CARRIED
    if carrying:
        # Then the completed payments earlier runs left pending verification: asked again.
        payments = await ledger.pending_verification(
            run_id=run.id,
            start=run.window_start,
            end=run.window_end,
            limit=settings.RECONCILIATION_BATCH_SIZE,
        )
    else:
        payments = await ledger.in_window(
            start=run.window_start,
            end=run.window_end,
            statuses=list(ASKED_ABOUT),
            after=(datetime.fromisoformat(after[0]), uuid.UUID(after[1])) if after else None,
            limit=settings.RECONCILIATION_BATCH_SIZE,
        )
    queries = StatusQueryRepository.from_session(session)
    asks: list[Ask] = []
    for payment in payments:
        receipt = payment.receipt_number
        checkout = None if receipt else payment.checkout_request_id
        if receipt is None and checkout is None:
            continue  # Daraja never took its push: nothing to ask about
        token = secrets.token_hex(20)
        query = await queries.create(
            StatusQuery(
                run_id=run.id,
                payment_id=payment.id,
                token_hash=token_hash(token),
                receipt=receipt,
                checkout_request_id=checkout,
                state=S.asked,
                attempts=1,
            ),
            flush=True,
        )
        asks.append(Ask(query.id, token, receipt, checkout))
    if len(payments) < settings.RECONCILIATION_BATCH_SIZE and not carrying:
        run.checkpoint = {"phase": checkpoint.get("phase"), "after": CARRIED}
    elif len(payments) < settings.RECONCILIATION_BATCH_SIZE:
        deadline = utcnow() + timedelta(
            seconds=settings.scaled(settings.RECONCILIATION_STATUS_WAIT_S)
        )
        run.checkpoint = {"phase": "transaction_status_wait", "after": deadline.isoformat()}
    elif carrying:
        run.checkpoint = {"phase": checkpoint.get("phase"), "after": CARRIED}
    else:
        last = payments[-1]
        run.checkpoint = {
            "phase": checkpoint.get("phase"),
            "after": [last.created_at.isoformat(), str(last.id)],
        }
    await db.commit(session)
    await _send(session, asks=asks, daraja=daraja, settings=settings)


async def _send(
    session: AsyncSession, *, asks: list[Ask], daraja: DarajaClient, settings: Settings
) -> None:
    outcomes: dict[int, str] = {}
    for ask in asks:
        try:
            await daraja.transaction_status(
                transaction_id=ask.receipt,
                originator_conversation_id=ask.checkout_request_id,
                result_url=result_url(settings, ask.token),
                timeout_url=f"{result_url(settings, ask.token)}/timeout",
                # Stored credentials carry their own initiator; settings are the bootstrap.
                initiator=daraja.config.initiator_name or settings.RECONCILIATION_INITIATOR,
                security_credential=(
                    daraja.config.security_credential or settings.RECONCILIATION_SECURITY_CREDENTIAL
                ).get_secret_value(),
            )
        except DarajaError as e:
            outcomes[ask.query_id] = S.timed_out if e.retryable else S.refused
            log.warning("transaction_status_not_taken", query_id=ask.query_id, error=str(e))
    if outcomes:
        await StatusQueryRepository.from_session(session).set_states(outcomes)


async def wait(
    session: AsyncSession, *, run: ReconciliationRun, daraja: DarajaClient, settings: Settings
) -> None:
    """Move on once every request is answered (or given up); ask again those that timed out;
    else raise `ResultsPending` until the deadline."""
    queries = StatusQueryRepository.from_session(session)
    counts = await queries.counts(run.id)
    retry = await queries.to_ask_again(
        run_id=run.id, max_attempts=settings.RECONCILIATION_STATUS_MAX_ATTEMPTS
    )
    deadline = datetime.fromisoformat(run.checkpoint["after"])
    if retry and utcnow() < deadline:
        asks = []
        for query in retry:
            token = secrets.token_hex(20)
            query.token_hash = token_hash(token)
            query.attempts += 1
            query.state = S.asked
            asks.append(Ask(query.id, token, query.receipt, query.checkout_request_id))
        await session.flush()
        await db.commit(session)
        await _send(session, asks=asks, daraja=daraja, settings=settings)
        return
    if counts.get(S.asked, 0) and utcnow() < deadline:
        raise ResultsPending(f"{counts[S.asked]} Transaction Status results outstanding")
    collect.note(run, RecordSource.transaction_status, **{state: n for state, n in counts.items()})
    run.checkpoint = {"phase": "next", "after": None}


# The inbox: stored as received, applied by a job.


async def receive(
    session: AsyncSession, *, token: str, kind: str, body: bytes, settings: Settings
) -> None:
    """Store a Result for a request we made (`UnknownResultUrl` otherwise) and queue it."""
    hashed = token_hash(token)
    if await StatusQueryRepository.from_session(session).by_token(hashed) is None:
        raise UnknownResultUrl("no Transaction Status request expects a result at this address")
    await store_result(
        session,
        hashed_token=hashed,
        kind=kind,
        body=body,
        dedupe_prefix="",
        task=RESULT_TASK,
        job_id_prefix=f"{settings.NAMESPACE}:result",
    )


async def store_result(
    session: AsyncSession,
    *,
    hashed_token: str,
    kind: str,
    body: bytes,
    dedupe_prefix: str,
    task: str,
    job_id_prefix: str,
) -> None:
    """Keep a result Daraja posted (Transaction Status, Reversal) once in the result inbox and
    queue the job that applies it; an identical resend is stored and queued nothing."""
    digest = hashlib.sha256(body).hexdigest()
    stored = await ResultInboxRepository.from_session(session).store(
        token_hash=hashed_token,
        kind=kind,
        dedupe_key=f"{dedupe_prefix}{hashed_token}:{kind}:{digest}",
        body=body,
    )
    if stored is not None:
        enqueue_after_commit(session, task, stored, _job_id=f"{job_id_prefix}:{stored}")


async def process(session: AsyncSession, *, inbox_id: int, settings: Settings) -> str | None:
    """Apply one stored Result to its request; None when it was processed already."""
    inbox = await ResultInboxRepository.from_session(session).lock_unprocessed(inbox_id)
    if inbox is None:
        return None
    query = await StatusQueryRepository.from_session(session).by_token(inbox.token_hash)
    outcome, note = "ignored", None
    if query is None or query.state != S.asked:
        note = "no request is waiting for this result"
    elif inbox.kind == "timeout":
        query.state = S.timed_out
        outcome = "timed_out"
    else:
        try:
            result = parse_result(inbox.body)
        except ResultParseError as e:
            note = str(e)
        else:
            outcome = await _answer(session, query=query, result=result)
    inbox.processed_at = utcnow()
    inbox.outcome = outcome
    inbox.note = note
    await session.flush()
    return outcome


async def _answer(session: AsyncSession, *, query: StatusQuery, result: TransactionResult) -> str:
    query.state = S.answered
    query.result_code = result.result_code
    query.answered_at = utcnow()
    receipt = result.receipt
    if result.result_code != "0" or receipt is None:
        return "not_found"
    run = await RunRepository.from_session(session).get_by_id(query.run_id)
    assert run is not None  # the request references it
    amount = result.amount
    digits = "".join(c for c in result.debit_party.split(" - ")[0] if c.isdigit())
    finalised = result.parameter("FinalisedTime")
    await RecordRepository.from_session(session).add_many(
        [
            {
                "source": RecordSource.transaction_status,
                "receipt": receipt[:32],
                "shortcode": run.shortcode,
                "status": result.status or "completed",
                "result_code": result.result_code,
                "amount": int(amount) if amount is not None and amount % 1 == 0 else None,
                "phone_tail": digits[-3:] if len(digits) >= 3 else None,
                "account_reference": None,
                # Asked by its push: the receipt proves that push.
                "checkout_request_id": query.checkout_request_id,
                "completed_at": _time(finalised),
                "run_id": query.run_id,
                "raw": json.loads(json.dumps(result.parameters, default=str)),
            }
        ]
    )
    return "recorded"


def _time(value: Any) -> datetime | None:
    try:
        return parse_daraja_timestamp(str(value)) if value is not None else None
    except ValueError:
        return None
