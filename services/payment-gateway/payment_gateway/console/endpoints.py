"""`/v1/console`: what session-api's staff console reads from the gateway, on behalf of the
staff member named in `X-Acting-User`."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Query

from payment_gateway.auth.exceptions import InvalidApiKey
from payment_gateway.console import service
from payment_gateway.console.dependencies import ActingUser
from payment_gateway.console.exceptions import InvalidWindow
from payment_gateway.console.schemas import (
    FactsRequest,
    Granularity,
    PaymentFacts,
    PaymentStats,
    PaymentTimeline,
)
from payment_gateway.dependencies import SettingsDep
from payment_gateway.payment.exceptions import PaymentNotFound
from shared.db import SessionDep
from shared.errors import responses
from shared.schemas import AwareTimestamp

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/v1/console", tags=["console"])


@router.post(
    "/payments/facts",
    response_model=list[PaymentFacts],
    responses=responses(InvalidApiKey),
)
async def payment_facts(
    body: FactsRequest, actor: ActingUser, session: SessionDep
) -> list[PaymentFacts]:
    """Gateway facts (environment, hold, verdict, masked phone) for a page of payments."""
    log.info("console_payment_facts", count=len(body.ids))
    return await service.facts(session, ids=body.ids)


@router.get(
    "/payments/{payment_id}/timeline",
    response_model=PaymentTimeline,
    responses=responses(InvalidApiKey, PaymentNotFound),
)
async def payment_timeline(
    payment_id: uuid.UUID, actor: ActingUser, session: SessionDep
) -> PaymentTimeline:
    """The payment and its whole history merged into one time-ordered list, with guidance."""
    log.info("console_payment_timeline", payment_id=str(payment_id))
    return await service.timeline(session, payment_id=payment_id)


@router.get(
    "/stats",
    response_model=PaymentStats,
    responses=responses(InvalidApiKey, InvalidWindow),
)
async def payment_stats(
    actor: ActingUser,
    session: SessionDep,
    settings: SettingsDep,
    window_from: Annotated[
        AwareTimestamp, Query(alias="from", description="Inclusive, ISO 8601 with an offset.")
    ],
    window_to: Annotated[
        AwareTimestamp, Query(alias="to", description="Exclusive, ISO 8601 with an offset.")
    ],
    granularity: Granularity = Granularity.day,
) -> PaymentStats:
    """Counts and values by status, success rate, failure reasons, time to pay, holds and open
    exceptions for payments created in `[from, to)`, bucketed by Africa/Nairobi day or hour."""
    log.info("console_stats", window_from=window_from.isoformat(), window_to=window_to.isoformat())
    return await service.stats(
        session,
        window_from=window_from,
        window_to=window_to,
        granularity=granularity,
        max_days=settings.CONSOLE_STATS_MAX_DAYS,
        refresh_overlap=timedelta(seconds=settings.CONSOLE_STATS_REFRESH_OVERLAP_S),
    )
