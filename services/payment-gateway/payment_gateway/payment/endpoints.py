"""`/v1/payments`: start an STK Push payment, read payments and their timelines, refresh one."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from redis.asyncio import Redis

from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.auth.exceptions import InvalidApiKey
from payment_gateway.dependencies import DarajaDep, SettingsDep
from payment_gateway.idempotency import service as idempotency_service
from payment_gateway.idempotency.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused
from payment_gateway.integrations.daraja import DarajaError
from payment_gateway.models import EventSource, Payment, PaymentStatus
from payment_gateway.payment import service
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
from payment_gateway.payment.schemas import (
    PaymentCreate,
    PaymentEventOut,
    PaymentOut,
    PaymentPage,
)
from shared.db import SessionDep
from shared.errors import responses
from shared.schemas import Text, Timestamp

router = APIRouter(prefix="/v1/payments", tags=["payments"])


async def _payment(payment_id: uuid.UUID, session: SessionDep, _: ServiceDep) -> Payment:
    return await service.get(session, payment_id)


PaymentDep = Annotated[Payment, Depends(_payment)]
IdempotencyKeyHeader = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="1 to 255 printable ASCII characters, unique per intended payment.",
    ),
]


def _json(status: int, body: str) -> Response:
    return Response(content=body, status_code=status, media_type="application/json")


@router.post(
    "",
    response_model=PaymentOut,
    status_code=201,
    responses=responses(
        InvalidApiKey,
        IdempotencyKeyReused,
        IdempotencyKeyInUse,
        PhoneBusy,
        DuplicatePayment,
        AmountOutOfRange,
    ),
)
async def create_payment(
    body: PaymentCreate,
    idempotency_key: IdempotencyKeyHeader,
    principal: ServiceDep,
    session: SessionDep,
    settings: SettingsDep,
    daraja: DarajaDep,
) -> Response:
    """Start an STK Push; the payment is `sent` (or `pending` with a retry queued) on return."""
    claim = await idempotency_service.claim(
        session,
        principal=principal.name,
        key=idempotency_key,
        fingerprint=idempotency_service.request_hash(body.model_dump(mode="json")),
        settings=settings,
    )
    if isinstance(claim, idempotency_service.Replay):
        return _json(claim.status, claim.body)
    if claim.payment_id is not None:
        # The first request with this key died after storing its payment; the sweep pushes it.
        resumed = await service.get(session, claim.payment_id)
        content = PaymentOut.of(resumed).model_dump_json()
        await idempotency_service.complete(session, claim=claim, status=201, body=content)
        return _json(201, content)
    actor = service.Actor(EventSource.api, principal.name)
    payment, token = await service.create(session, request=body, actor=actor, settings=settings)
    await idempotency_service.attach_payment(session, claim=claim, payment_id=payment.id)
    order = service.push_order(payment, token)
    # Durable before Daraja is called: from here on a crash leaves a pending payment (and a
    # claimed key) that the sweep and a retried request both resume.
    await session.commit()
    result = await service.push(daraja, order=order, settings=settings)
    payment = await service.record_push(
        session, order=order, result=result, actor=actor, settings=settings
    )
    content = PaymentOut.of(payment).model_dump_json()
    await idempotency_service.complete(session, claim=claim, status=201, body=content)
    return _json(201, content)


@router.get(
    "",
    response_model=PaymentPage,
    responses=responses(InvalidApiKey, InvalidCursor, InvalidFilter),
)
async def list_payments(
    session: SessionDep,
    _: ServiceDep,
    status: Annotated[list[PaymentStatus] | None, Query(description="Repeatable.")] = None,
    phone: Annotated[
        Text | None, Query(max_length=32, description="Any accepted phone form.")
    ] = None,
    checkout_request_id: Annotated[Text | None, Query(max_length=64)] = None,
    receipt_number: Annotated[Text | None, Query(max_length=32)] = None,
    created_from: Annotated[
        Timestamp | None, Query(description="Inclusive, ISO 8601 with a UTC offset.")
    ] = None,
    created_to: Annotated[
        Timestamp | None, Query(description="Exclusive, ISO 8601 with a UTC offset.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[
        Text | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> PaymentPage:
    """Payments, newest first, filtered, with cursor pagination."""
    items, next_cursor = await service.search(
        session,
        statuses=status or [],
        phone=phone,
        checkout_request_id=checkout_request_id,
        receipt_number=receipt_number,
        created_from=created_from,
        created_to=created_to,
        limit=limit,
        cursor=cursor,
    )
    return PaymentPage(items=[PaymentOut.of(p) for p in items], next_cursor=next_cursor)


@router.get(
    "/{payment_id}",
    response_model=PaymentOut,
    responses=responses(InvalidApiKey, PaymentNotFound),
)
async def get_payment(payment: PaymentDep) -> PaymentOut:
    """One payment."""
    return PaymentOut.of(payment)


@router.get(
    "/{payment_id}/events",
    response_model=list[PaymentEventOut],
    responses=responses(InvalidApiKey, PaymentNotFound),
)
async def payment_events(payment: PaymentDep, session: SessionDep) -> list[PaymentEventOut]:
    """The payment's timeline, oldest first."""
    return [PaymentEventOut.of(e) for e in await service.timeline(session, payment.id)]


@router.post(
    "/{payment_id}/refresh",
    response_model=PaymentOut,
    responses=responses(InvalidApiKey, PaymentNotFound, RefreshTooSoon, DarajaUnreachable),
)
async def refresh_payment(
    payment: PaymentDep,
    principal: ServiceDep,
    session: SessionDep,
    settings: SettingsDep,
    daraja: DarajaDep,
    request: Request,
) -> PaymentOut:
    """Ask Daraja about the payment now (STK Query) and apply the answer; rate limited."""
    redis: Redis = request.app.state.redis
    await service.claim_refresh(redis, payment_id=payment.id, settings=settings)
    checkout_request_id = payment.checkout_request_id
    if checkout_request_id is None:
        return PaymentOut.of(payment)  # never accepted by Daraja: there is nothing to ask
    await session.commit()  # hold no connection while Daraja answers
    result = await service.query(daraja, checkout_request_id)
    if isinstance(result, DarajaError):
        raise DarajaUnreachable(
            f"Daraja did not answer the status query ({result.message}); the payment is "
            "unchanged and is still being monitored, try again later"
        )
    updated = await service.record_refresh(
        session,
        payment_id=payment.id,
        result=result,
        actor=service.Actor(EventSource.query, principal.name),
        settings=settings,
    )
    return PaymentOut.of(updated)
