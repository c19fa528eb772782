"""What callers ask of payments: start one (create it, then push), read and search them, and
refresh one on demand.

The two calls that reach Daraja during a request follow the gateway's "commit, then call out"
pattern: what was decided is committed (`shared.db.commit`) before Daraja is called, so a crash
leaves a state the sweep and a retried request resume, and no connection is held while Daraja
answers; the answer is then recorded in the same unit of work, which commits at its end.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.audit import service as audit
from payment_gateway.config import Settings
from payment_gateway.idempotency import service as idempotency_service
from payment_gateway.integrations.daraja import DarajaClient, DarajaError, outcome_for
from payment_gateway.models import EventSource, Payment, PaymentEvent, PaymentStatus
from payment_gateway.payment import lifecycle, messages, monitoring
from payment_gateway.payment.exceptions import (
    AmountOutOfRange,
    DarajaUnreachable,
    DuplicatePayment,
    InvalidCursor,
    InvalidFilter,
    PaymentNotFound,
    PhoneBusy,
    RefreshTooSoon,
)
from payment_gateway.payment.repository import (
    PaymentEventRepository,
    PaymentFilters,
    PaymentRepository,
)
from payment_gateway.payment.schemas import PaymentCreate, PaymentOut
from shared import db
from shared.db import utcnow
from shared.phone import mask_phone, normalise_phone
from shared.schemas import supported_moment

S = PaymentStatus


async def start(
    session: AsyncSession,
    *,
    request: PaymentCreate,
    principal: str,
    idempotency_key: str,
    daraja: DarajaClient,
    settings: Settings,
) -> PaymentOut:
    """Create a payment and push it, under the caller's Idempotency-Key: the same key and body
    get the first response again, and a payment whose first request died is resumed."""
    claim = await idempotency_service.claim(
        session,
        principal=principal,
        key=idempotency_key,
        fingerprint=idempotency_service.request_hash(request.model_dump(mode="json")),
        settings=settings,
    )
    if isinstance(claim, idempotency_service.Replay):
        return PaymentOut.model_validate_json(claim.body)
    if claim.payment_id is not None:
        # The first request with this key died after storing its payment; the sweep pushes it.
        payment = await get(session, payment_id=claim.payment_id)
    else:
        actor = lifecycle.Actor(EventSource.api, principal)
        payment, token = await create(
            session,
            request=request,
            actor=actor,
            settings=settings,
            environment=daraja.config.environment,
        )
        await idempotency_service.attach_payment(session, claim=claim, payment_id=payment.id)
        order = monitoring.PushOrder.of(payment, token)
        # Durable before Daraja is called: from here on a crash leaves a pending payment (and a
        # claimed key) that the sweep and a retried request both resume.
        await db.commit(session)
        result = await monitoring.push(daraja, order=order, settings=settings)
        payment = await monitoring.record_push(
            session, order=order, result=result, actor=actor, settings=settings
        )
    response = PaymentOut.of(payment)
    await idempotency_service.complete(
        session, claim=claim, status=201, body=response.model_dump_json()
    )
    return response


async def create(
    session: AsyncSession,
    *,
    request: PaymentCreate,
    actor: lifecycle.Actor,
    settings: Settings,
    environment: str | None = None,
) -> tuple[Payment, str]:
    """A `pending` payment and the callback token of its first push; refuses what Daraja would.
    It belongs to ``environment`` (the active one; settings' by default) for good."""
    if not settings.AMOUNT_MIN <= request.amount <= settings.AMOUNT_MAX:
        raise AmountOutOfRange(
            f"amount {request.amount} is outside the accepted range: a whole number of KES from "
            f"{settings.AMOUNT_MIN} to {settings.AMOUNT_MAX}"
        )
    now = utcnow()
    await _refuse_duplicate(session, request=request, now=now, settings=settings)
    await _refuse_if_phone_busy(session, phone=request.phone)
    payment = Payment(
        id=uuid.uuid4(),
        status=S.pending,
        amount=request.amount,
        phone=request.phone,
        account_reference=request.account_reference,
        description=request.description,
        metadata_=request.metadata,
        environment=environment or settings.DARAJA_ENVIRONMENT,
        customer_message=messages.PENDING,
        created_by=actor.name,
        sequence=0,
        push_attempts=1,
        poll_step=0,
        next_check_at=monitoring.inflight_deadline(settings),
        created_at=now,
        updated_at=now,
    )
    await _insert(session, payment=payment)
    token = await monitoring.new_token(session, payment=payment, attempt=1)
    await PaymentEventRepository.from_session(session).create(
        PaymentEvent(
            payment_id=payment.id,
            from_status=None,
            to_status=S.pending,
            source=actor.source,
            actor=actor.name,
            detail={"amount": payment.amount},
            at=now,
        )
    )
    await audit.record(
        session,
        action="payment.created",
        actor=actor.name,
        subject=f"payment:{payment.id}",
        details={
            "to": S.pending,
            "source": actor.source,
            "amount": payment.amount,
            "phone": mask_phone(payment.phone),
            "account_reference": payment.account_reference,
            "environment": payment.environment,
        },
    )
    return payment, token


async def _refuse_duplicate(
    session: AsyncSession, *, request: PaymentCreate, now: datetime, settings: Settings
) -> None:
    window = timedelta(seconds=settings.DUPLICATE_WINDOW_S)
    recent = await PaymentRepository.from_session(session).last_push(
        phone=request.phone, amount=request.amount, since=now - window
    )
    if recent is None or recent.pushed_at is None:
        return
    wait = max(1, int((recent.pushed_at + window - now).total_seconds()) + 1)
    raise DuplicatePayment(
        # No payment id: the earlier payment may be another customer's.
        f"KES {request.amount} was already requested from {mask_phone(request.phone)} "
        f"less than {int(settings.DUPLICATE_WINDOW_S)} seconds ago; "
        f"M-Pesa refuses the same phone and amount within that window. Retry in {wait} "
        "seconds or use a different amount",
        headers={"Retry-After": str(wait)},
    )


async def _refuse_if_phone_busy(session: AsyncSession, *, phone: str) -> None:
    busy = await PaymentRepository.from_session(session).open_for_phone(phone)
    if busy is not None:
        raise PhoneBusy(
            # No payment id: the open payment may be another customer's.
            f"{mask_phone(phone)} already has an open payment ({busy.status}); M-Pesa "
            "allows one prompt per phone at a time. Wait for it to complete, fail or time out, "
            "then try again"
        )


async def _insert(session: AsyncSession, *, payment: Payment) -> None:
    try:
        async with session.begin_nested():
            await PaymentRepository.from_session(session).create(payment, flush=True)
    except IntegrityError as e:
        if "payment_open_phone_key" not in str(e.orig):
            raise
        # Another request for this phone committed between our check and our insert.
        await _refuse_if_phone_busy(session, phone=payment.phone)
        raise PhoneBusy(
            f"{mask_phone(payment.phone)} had another payment started at the same moment; "
            "M-Pesa allows one prompt per phone at a time. Wait for it to finish, then try again"
        ) from e


async def get(session: AsyncSession, *, payment_id: uuid.UUID) -> Payment:
    payment = await PaymentRepository.from_session(session).get(payment_id)
    if payment is None:
        raise PaymentNotFound(f"no payment has id {payment_id}")
    return payment


async def timeline(session: AsyncSession, *, payment_id: uuid.UUID) -> list[PaymentEvent]:
    return await PaymentEventRepository.from_session(session).timeline(payment_id)


async def refresh(
    session: AsyncSession,
    *,
    payment: Payment,
    principal: str,
    redis: Redis,
    daraja: DarajaClient,
    settings: Settings,
) -> Payment:
    """Ask Daraja about the payment now (STK Query) and apply a final answer: it settles (or
    proves a late success, or ends a hold); a pending one changes nothing."""
    await _claim_refresh(redis, payment_id=payment.id, settings=settings)
    checkout_request_id = payment.checkout_request_id
    if checkout_request_id is None:
        return payment  # never accepted by Daraja: there is nothing to ask
    await db.commit(session)  # hold no connection while Daraja answers
    result = await monitoring.query(daraja, checkout_request_id=checkout_request_id)
    if isinstance(result, DarajaError):
        raise DarajaUnreachable(
            f"Daraja did not answer the status query ({result.message}); the payment is "
            "unchanged and is still being monitored, try again later"
        )
    locked = await PaymentRepository.from_session(session).lock(payment.id)
    if locked is None:
        raise PaymentNotFound(f"no payment has id {payment.id}")
    await monitoring.log_poll(
        session, payment_id=locked.id, step=None, actor=principal, result=result
    )
    if not result.pending and result.result_code is not None:
        await lifecycle.settle(
            session,
            payment=locked,
            outcome=outcome_for(result.result_code),
            result_desc=result.result_desc,
            receipt=None,
            actor=lifecycle.Actor(EventSource.query, principal),
            detail={"refresh": True},
            settings=settings,
        )
    return locked


async def _claim_refresh(redis: Redis, *, payment_id: uuid.UUID, settings: Settings) -> None:
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
    environment: str | None = None,
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
    filters = PaymentFilters(
        statuses=[s.value for s in statuses],
        phone=normalised_phone,
        checkout_request_id=checkout_request_id,
        receipt_number=receipt_number,
        created_from=created_from,
        created_to=created_to,
        environment=environment,
    )
    after = _decode_cursor(cursor) if cursor else None
    rows = await PaymentRepository.from_session(session).search(
        filters=filters, after=after, limit=limit + 1
    )
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
