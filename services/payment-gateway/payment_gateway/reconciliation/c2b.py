"""C2B: money a customer pays the paybill by hand (the usual fallback when no prompt arrives).
M-Pesa confirms it to our ConfirmationURL at once; the confirmation is stored in the inbox, then
a job records it as an M-Pesa record and matches it in real time, with the same rules as a run
(`matching.judge_receipt`): an open payment with its account reference and amount completes
with its receipt. Whatever it cannot settle, and any confirmation that was lost, the next run
judges from Pull or the statement."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import (
    DarajaClient,
    DarajaError,
    outcome_for,
    parse_daraja_timestamp,
)
from payment_gateway.integrations.daraja.numbers import to_decimal
from payment_gateway.models import RecordSource
from payment_gateway.payment import lifecycle
from payment_gateway.reconciliation import matching
from payment_gateway.reconciliation.exceptions import (
    C2BNotConfigured,
    DarajaUnreachable,
    UnknownResultUrl,
)
from payment_gateway.reconciliation.inbox_repository import ResultInboxRepository
from payment_gateway.reconciliation.ledger_repository import LedgerPaymentRepository
from payment_gateway.reconciliation.matching import Evidence, Links
from payment_gateway.reconciliation.repository import RecordRepository
from shared.db import utcnow
from shared.jobs import enqueue_after_commit

log = structlog.get_logger(__name__)

C2B_TASK = "reconciliation.c2b"
# M-Pesa's times are whole seconds on M-Pesa's clock.
CLOCK_SLACK = timedelta(minutes=5)


def _token(settings: Settings) -> str:
    if settings.RECONCILIATION_C2B_TOKEN is None:
        raise C2BNotConfigured("set GATEWAY_RECONCILIATION_C2B_TOKEN to take C2B payments")
    return settings.RECONCILIATION_C2B_TOKEN.get_secret_value()


def urls(settings: Settings) -> tuple[str, str]:
    base = f"{settings.PUBLIC_BASE_URL}/v1/callbacks/c2b/{_token(settings)}"
    return f"{base}/confirmation", f"{base}/validation"


async def register_or_explain(*, daraja: DarajaClient, settings: Settings) -> dict[str, Any]:
    """Register the paybill's C2B URLs; `DarajaUnreachable` names what Daraja said."""
    confirmation, validation = urls(settings)
    try:
        return await daraja.register_c2b_urls(
            confirmation_url=confirmation, validation_url=validation
        )
    except DarajaError as e:
        raise DarajaUnreachable(f"Daraja did not register the C2B URLs: {e}") from e


def check_token(token: str, settings: Settings) -> None:
    expected = settings.RECONCILIATION_C2B_TOKEN
    if expected is None or not hmac.compare_digest(
        token.encode(), expected.get_secret_value().encode()
    ):
        raise UnknownResultUrl("no C2B confirmations are expected at this address")


async def receive(session: AsyncSession, *, token: str, body: bytes, settings: Settings) -> None:
    """Store a confirmation (an identical resend is stored once) and queue it."""
    check_token(token, settings)
    hashed = hashlib.sha256(token.encode()).hexdigest()
    digest = hashlib.sha256(body).hexdigest()
    stored = await ResultInboxRepository.from_session(session).store(
        token_hash=hashed, kind="c2b", dedupe_key=f"c2b:{digest}", body=body
    )
    if stored is not None:
        enqueue_after_commit(
            session, C2B_TASK, stored, _job_id=f"{settings.NAMESPACE}:c2b:{stored}"
        )


# Daraja's validation codes: accepted, and "invalid account number".
ACCEPTED = "0"
UNKNOWN_ACCOUNT = "C2B00012"


async def validate(session: AsyncSession, *, body: bytes, settings: Settings) -> str:
    """M-Pesa asks whether to take money: yes, unless RECONCILIATION_C2B_REJECT_UNKNOWN_REFERENCE
    is on and its account reference matches no open payment (the customer is told at once and
    keeps the money). A body that cannot be read is taken: money is never lost on our error."""
    if not settings.RECONCILIATION_C2B_REJECT_UNKNOWN_REFERENCE:
        return ACCEPTED
    try:
        payload = json.loads(body)
    except ValueError:
        return ACCEPTED
    if not isinstance(payload, dict):
        return ACCEPTED
    fields = {str(k).lower(): v for k, v in payload.items()}
    reference = str(fields.get("billrefnumber") or "").strip()
    since = utcnow() - timedelta(hours=settings.RECONCILIATION_REFERENCE_LOOKBACK_H)
    if reference and await LedgerPaymentRepository.from_session(session).open_with_reference(
        reference, since=since
    ):
        return ACCEPTED
    log.info("c2b_validation_rejected", account_reference=reference[:64])
    return UNKNOWN_ACCOUNT


def _record(payload: dict[str, Any], *, shortcode: str) -> dict[str, Any] | None:
    fields = {str(k).lower(): v for k, v in payload.items()}
    receipt = str(fields.get("transid") or "").strip()
    amount: Decimal | None = to_decimal(fields.get("transamount"))
    if not receipt or amount is None:
        return None
    digits = "".join(c for c in str(fields.get("msisdn") or "") if c.isdigit())
    try:
        completed_at: datetime | None = parse_daraja_timestamp(str(fields.get("transtime")))
    except ValueError:
        completed_at = None
    return {
        "source": RecordSource.c2b,
        "receipt": receipt[:32],
        "shortcode": str(fields.get("businessshortcode") or shortcode),
        "status": "completed",
        "result_code": None,
        "amount": int(amount) if amount % 1 == 0 else None,
        "phone_tail": digits[-3:] if len(digits) >= 3 else None,
        "account_reference": str(fields.get("billrefnumber") or "")[:64] or None,
        "checkout_request_id": None,
        "completed_at": completed_at or utcnow(),
        "run_id": None,
        "raw": {k: str(v) for k, v in payload.items()},
    }


async def process(session: AsyncSession, *, inbox_id: int, settings: Settings) -> str | None:
    """Record one stored confirmation and settle the payment it proves, if any."""
    inbox = await ResultInboxRepository.from_session(session).lock_unprocessed(inbox_id)
    if inbox is None:
        return None
    try:
        payload = json.loads(inbox.body)
    except ValueError:
        payload = None
    row = (
        _record(payload, shortcode=settings.DARAJA_SHORTCODE) if isinstance(payload, dict) else None
    )
    outcome = "invalid"
    if row is not None:
        await RecordRepository.from_session(session).add_many([row])
        outcome = await _match(session, row=row, settings=settings)
    inbox.processed_at = utcnow()
    inbox.outcome = outcome
    await session.flush()
    return outcome


async def _match(session: AsyncSession, *, row: dict[str, Any], settings: Settings) -> str:
    records = await RecordRepository.from_session(session).by_receipts(
        [row["receipt"]], sources=[RecordSource.c2b]
    )
    evidence = Evidence.merge(records)
    payments = LedgerPaymentRepository.from_session(session)
    owner = await payments.by_receipt(evidence.receipt)
    candidates = []
    if owner is None and evidence.account_reference and evidence.amount:
        until = evidence.completed_at or utcnow()
        candidates = await payments.by_reference(
            account_reference=evidence.account_reference,
            amount=evidence.amount,
            since=until - timedelta(hours=settings.RECONCILIATION_REFERENCE_LOOKBACK_H),
            until=until + CLOCK_SLACK,
        )
    decision = matching.judge_receipt(
        evidence, Links(owner=owner, pushed=None, by_reference=candidates)
    )
    if decision.payment is not None and decision.settle_code == matching.PAID:
        await lifecycle.settle(
            session,
            payment=decision.payment,
            outcome=outcome_for(matching.PAID),
            result_desc=f"paid by hand (C2B {evidence.receipt})",
            receipt=evidence.receipt,
            actor=lifecycle.RECONCILIATION,
            detail={"source": "c2b", "verdict": decision.verdict.value},
            settings=settings,
        )
    log.info("c2b_confirmation", receipt=evidence.receipt, verdict=decision.verdict.value)
    return decision.verdict.value
