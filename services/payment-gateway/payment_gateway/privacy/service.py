"""Erasing a payer: each payment keeps its id, amount, receipt, status and dates; its phone becomes
the keyed hash (`shared.phone.keyed_phone_hash`) and the phone, name and e-mail address are
blanked wherever the gateway stored them for it (the raw STK callbacks, Transaction Status
results and C2B confirmations, the timeline's notes and details, the events, the idempotent
replays, reconciliation's M-Pesa records). Run twice, the second run changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.audit import service as audit
from payment_gateway.config import Settings
from payment_gateway.models import OPEN_STATUSES, Payment
from payment_gateway.privacy.exceptions import PaymentInFlight
from payment_gateway.privacy.repository import ErasureRepository
from payment_gateway.privacy.schemas import ErasureOut
from shared.phone import ERASED_PHONE_PATTERN, keyed_phone_hash

log = structlog.get_logger(__name__)

ERASED = "[erased]"
_ERASED_PHONE = re.compile(ERASED_PHONE_PATTERN)


async def erase(
    session: AsyncSession,
    *,
    settings: Settings,
    payment_ids: list[uuid.UUID],
    redact: list[str],
    principal: str,
) -> ErasureOut:
    repository = ErasureRepository.from_session(session)
    payments = await repository.lock_payments(payment_ids)
    open_ones = [p for p in payments if p.status in OPEN_STATUSES]
    if open_ones:
        raise PaymentInFlight(
            f"payment {open_ones[0].id} is {open_ones[0].status}; erase once it has ended "
            "(completed, failed, cancelled or timed out)"
        )
    plan = _Plan.of(payments, redact=redact, key=settings.ERASURE_HASH_KEY.get_secret_value())
    erased = 0
    for payment in payments:
        if payment.phone in plan.phones:
            payment.phone = plan.phones[payment.phone]
            erased += 1
        if payment.checkout_request_id in plan.checkouts:
            payment.checkout_request_id = plan.checkouts[payment.checkout_request_id]
    callbacks, records = await _scrub_stored(repository, payments=payments, plan=plan)
    await session.flush()
    # Ids and counts only: the audit trail cannot be edited, so it must never hold what erasure
    # removes.
    await audit.record(
        session,
        action="payer.erased",
        actor=principal,
        details={
            "payments": sorted(str(p.id) for p in payments),
            "phones_hashed": erased,
            "callbacks": callbacks,
            "records": records,
        },
    )
    log.info(
        "payer_erased",
        principal=principal,
        payments=len(payments),
        phones_hashed=erased,
        callbacks=callbacks,
        records=records,
    )
    return ErasureOut(
        payments=erased,
        callbacks=callbacks,
        records=records,
        checkout_request_ids={
            str(p.id): p.checkout_request_id for p in payments if p.checkout_request_id
        },
    )


@dataclass(frozen=True)
class _Plan:
    """What erasing these payments replaces, and with what."""

    phones: dict[str, str]
    checkouts: dict[str, str]
    replacements: dict[str, str]

    @classmethod
    def of(cls, payments: Sequence[Payment], *, redact: list[str], key: str) -> _Plan:
        # Every spelling a stored body may carry: 2547XXXXXXXX (Daraja's, a number or a string).
        phones = {
            p.phone: keyed_phone_hash(p.phone, key=key) for p in payments if _is_plain(p.phone)
        }
        checkouts = {
            p.checkout_request_id: _erased_checkout_id(p.checkout_request_id, p.phone, key=key)
            for p in payments
            if p.checkout_request_id
            and _is_plain(p.phone)
            and p.checkout_request_id.endswith(p.phone[3:])
        }
        words = {word: ERASED for word in redact if len(word.strip()) >= 3}
        # The checkout ids first: they hold the number without its 254.
        return cls(phones, checkouts, {**checkouts, **phones, **words})


async def _scrub_stored(
    repository: ErasureRepository, *, payments: Sequence[Payment], plan: _Plan
) -> tuple[int, int]:
    """Blank the payer in everything stored about these payments: events out, stored answers,
    raw callbacks and results, the timeline, M-Pesa's records. Returns (callbacks and results
    changed, M-Pesa records changed)."""
    replacements = plan.replacements
    ids = [p.id for p in payments]
    for outbox in await repository.outbox_events(ids):
        outbox.payload = _scrub(outbox.payload, replacements)
    for stored in await repository.idempotency_keys(ids):
        if stored.response_body:
            stored.response_body = _scrub_bytes(
                stored.response_body.encode(), replacements
            ).decode()
    callbacks = 0
    for callback in await repository.callbacks(ids):
        body = _scrub_bytes(callback.body, replacements)
        if body != callback.body:
            callback.body = body
            callbacks += 1
    for event in await repository.events(ids):
        event.detail = _scrub(event.detail, replacements)
        event.note = _scrub(event.note, replacements)
    receipts = [p.receipt_number for p in payments if p.receipt_number]
    for result in await repository.results(ids, receipts=receipts):
        body = _scrub_bytes(result.body, replacements)
        if body != result.body:
            result.body = body
            callbacks += 1
    records = 0
    checkouts = plan.checkouts
    checkout_ids = [*checkouts, *(p.checkout_request_id for p in payments if p.checkout_request_id)]
    for record in await repository.records(receipts=receipts, checkout_ids=checkout_ids):
        raw = _scrub(record.raw, replacements)
        if raw != record.raw or record.checkout_request_id in checkouts:
            record.raw = raw
            if record.checkout_request_id in checkouts:
                record.checkout_request_id = checkouts[record.checkout_request_id]
            records += 1
    return callbacks, records


def _erased_checkout_id(checkout_id: str, phone: str, *, key: str) -> str:
    """Daraja's CheckoutRequestID ends with the payer's number without 254: that part becomes a
    keyed digest of the whole id, so the id stays unique and the number is gone."""
    digest = hmac.new(key.encode(), checkout_id.encode(), hashlib.sha256).hexdigest()[:12]
    return f"{checkout_id[: -len(phone[3:])]}x{digest}"


def _is_plain(phone: str) -> bool:
    return _ERASED_PHONE.match(phone) is None


def _scrub(value: Any, replacements: dict[str, str]) -> Any:
    """The value with every replaced word swapped, inside JSON structures too; a number equal to
    a phone (Daraja sends `PhoneNumber` as one) becomes its hash."""
    if isinstance(value, str):
        for word, replacement in replacements.items():
            value = value.replace(word, replacement)
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return replacements.get(str(value), value)
    if isinstance(value, dict):
        return {key: _scrub(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, replacements) for item in value]
    return value


def _scrub_bytes(body: bytes, replacements: dict[str, str]) -> bytes:
    try:
        parsed = json.loads(body)
    except ValueError:
        # Stored as received even when it was not JSON: blank the words in the raw text.
        text = body.decode("utf-8", errors="replace")
        scrubbed: str = _scrub(text, replacements)
        return body if scrubbed == text else scrubbed.encode()
    scrubbed = _scrub(parsed, replacements)
    return body if scrubbed == parsed else json.dumps(scrubbed, separators=(",", ":")).encode()
