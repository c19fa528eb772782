from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from session_api.auth.dependencies import CurrentUser
from session_api.auth.exceptions import NotAuthenticated
from session_api.dependencies import RedisDep, SessionDep, SettingsDep
from session_api.models import AttemptStatus, PayableType, PaymentAttempt
from session_api.pagination import Page, PageDep, page_of
from session_api.payment import service as payment_service
from session_api.payment import stream as payment_stream
from session_api.payment.dependencies import AttemptDep, StreamedAttemptDep
from session_api.payment.exceptions import AttemptNotFound, ReceiptNotAvailable
from session_api.payment.schemas import AttemptOut
from shared.errors import responses
from shared.schemas import Timestamp

router = APIRouter(tags=["payments"])


@router.get("/v1/payments", response_model=Page[AttemptOut], responses=responses(NotAuthenticated))
async def list_payments(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[list[AttemptStatus] | None, Query(alias="status")] = None,
    payable_type: Annotated[PayableType | None, Query()] = None,
    created_from: Annotated[Timestamp | None, Query()] = None,
    created_to: Annotated[Timestamp | None, Query()] = None,
) -> Page[AttemptOut]:
    """Your payment history (everyone's for an admin), newest first."""
    result = await payment_service.history(
        session,
        user=user,
        statuses=status_,
        payable_type=payable_type,
        created_from=created_from,
        created_to=created_to,
        page=page,
    )
    return page_of(AttemptOut, result, page)


@router.get(
    "/v1/payments/{attempt_id}",
    response_model=AttemptOut,
    responses=responses(NotAuthenticated, AttemptNotFound),
)
async def get_payment(attempt: AttemptDep) -> PaymentAttempt:
    """A payment attempt's current status: the polling fallback to the stream."""
    return attempt


@router.get(
    "/v1/payments/{attempt_id}/receipt.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "the PDF receipt"},
        **responses(NotAuthenticated, AttemptNotFound, ReceiptNotAvailable),
    },
)
async def get_receipt(attempt: AttemptDep, session: SessionDep, settings: SettingsDep) -> Response:
    """The PDF receipt of a paid attempt (the payer, admins and the booking's therapist)."""
    filename, pdf = await payment_service.receipt_pdf(session, attempt=attempt, settings=settings)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get(
    "/v1/payments/{attempt_id}/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`status` events carrying the attempt (as GET /v1/payments/{id}): "
            "the current state first, then every change; the stream ends after a final status.",
        },
        **responses(NotAuthenticated, AttemptNotFound),
    },
)
async def stream_payment(
    attempt: StreamedAttemptDep, request: Request, redis: RedisDep, settings: SettingsDep
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events with every status change of a payment attempt."""
    updates = payment_stream.updates(
        sessionmaker=request.app.state.sessionmaker,
        redis=redis,
        settings=settings,
        attempt_id=attempt.id,
    )
    async for update in updates:
        yield ServerSentEvent(data=update, event="status", id=str(update.version))
