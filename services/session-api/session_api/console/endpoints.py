"""`/v1/admin/payments` and `/v1/admin/stats`: the staff console's reads (staff or admin)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from session_api.auth.dependencies import CurrentStaff
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.console import service
from session_api.console.dependencies import FiltersDep, SearchText, StreamingSessionDep
from session_api.console.exceptions import (
    GatewayStatsUnavailable,
    InvalidCursor,
    InvalidFilter,
    PaymentAttemptNotFound,
)
from session_api.console.schemas import (
    AdminPaymentDetail,
    AdminPaymentPage,
    AdminStats,
    Granularity,
    PaymentSort,
)
from session_api.dependencies import GatewayDep, SessionDep, SettingsDep
from shared.db import utcnow
from shared.errors import responses
from shared.schemas import AwareTimestamp, Text

router = APIRouter(prefix="/v1/admin", tags=["console"])


@router.get(
    "/payments",
    response_model=AdminPaymentPage,
    responses=responses(NotAuthenticated, RoleRequired, InvalidCursor, InvalidFilter),
)
async def list_payments(
    staff: CurrentStaff,
    session: SessionDep,
    gateway: GatewayDep,
    filters: FiltersDep,
    q: SearchText = None,
    sort: PaymentSort = PaymentSort.newest,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        Text | None, Query(max_length=300, description="`next_cursor` of the previous page.")
    ] = None,
) -> AdminPaymentPage:
    """Every payment attempt, filtered and sorted, with client, payable and gateway facts."""
    return await service.search(
        session,
        filters=filters,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
        gateway=gateway,
        user=staff,
    )


@router.get(
    "/payments/export.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "Every matching row, streamed."},
        **responses(NotAuthenticated, RoleRequired, InvalidFilter),
    },
)
async def export_payments(
    staff: CurrentStaff,
    session: StreamingSessionDep,
    gateway: GatewayDep,
    settings: SettingsDep,
    filters: FiltersDep,
    q: SearchText = None,
    sort: PaymentSort = PaymentSort.newest,
) -> StreamingResponse:
    """The list's rows with every field as CSV, streamed; dates in Africa/Nairobi time."""
    chunks = await service.export_csv(
        session,
        filters=filters,
        q=q,
        sort=sort,
        batch=settings.CONSOLE_EXPORT_BATCH_SIZE,
        gateway=gateway,
        user=staff,
    )
    name = f"payments-{utcnow():%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/payments/{attempt_id}",
    response_model=AdminPaymentDetail,
    responses=responses(NotAuthenticated, RoleRequired, PaymentAttemptNotFound),
)
async def get_payment(
    attempt_id: uuid.UUID, staff: CurrentStaff, session: SessionDep, gateway: GatewayDep
) -> AdminPaymentDetail:
    """One payment: its payable, client, every attempt, and the merged timeline with guidance."""
    return await service.detail(session, attempt_id=attempt_id, gateway=gateway, user=staff)


@router.get(
    "/stats",
    response_model=AdminStats,
    responses=responses(NotAuthenticated, RoleRequired, InvalidFilter, GatewayStatsUnavailable),
)
async def get_stats(
    staff: CurrentStaff,
    session: SessionDep,
    gateway: GatewayDep,
    window_from: Annotated[
        AwareTimestamp, Query(alias="from", description="Inclusive, ISO 8601 with an offset.")
    ],
    window_to: Annotated[
        AwareTimestamp, Query(alias="to", description="Exclusive, ISO 8601 with an offset.")
    ],
    granularity: Granularity = Granularity.day,
) -> AdminStats:
    """Counts and values by status, success rate, failure reasons, time to pay, late successes,
    held payments and open exceptions, bucketed by Africa/Nairobi day or hour."""
    return await service.stats(
        session,
        window_from=window_from,
        window_to=window_to,
        granularity=granularity,
        gateway=gateway,
        user=staff,
    )
