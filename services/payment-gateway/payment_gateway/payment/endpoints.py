"""`/v1/payments`: start an STK Push payment, read payments and their timelines, refresh one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.auth.exceptions import InvalidApiKey
from payment_gateway.dependencies import DarajaClientsDep, DarajaDep, RedisDep, SettingsDep
from payment_gateway.idempotency.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused
from payment_gateway.models import DarajaEnvironment, PaymentStatus
from payment_gateway.payment import service
from payment_gateway.payment.dependencies import IdempotencyKeyHeader, PaymentDep
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
) -> PaymentOut:
    """Start an STK Push; the payment is `sent` (or `pending` with a retry queued) on return."""
    return await service.start(
        session,
        request=body,
        principal=principal.name,
        idempotency_key=idempotency_key,
        daraja=daraja,
        settings=settings,
    )


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
    environment: Annotated[
        DarajaEnvironment | None, Query(description="Only payments made in this environment.")
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
        environment=environment,
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
    return [PaymentEventOut.of(e) for e in await service.timeline(session, payment_id=payment.id)]


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
    clients: DarajaClientsDep,
    redis: RedisDep,
) -> PaymentOut:
    """Ask Daraja about the payment now (STK Query) and apply the answer; rate limited."""
    refreshed = await service.refresh(
        session,
        payment=payment,
        principal=principal.name,
        redis=redis,
        daraja=await clients.for_environment(payment.environment),
        settings=settings,
    )
    return PaymentOut.of(refreshed)
