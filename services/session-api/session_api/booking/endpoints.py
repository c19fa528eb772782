from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from session_api.auth.dependencies import CurrentClient, CurrentTherapist, CurrentUser
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.booking import service as booking_service
from session_api.booking.dependencies import BookingDep, LockedBookingDep
from session_api.booking.exceptions import (
    BookingNotFound,
    BookingStateConflict,
    InvalidBooking,
    ScheduleConflict,
)
from session_api.booking.schemas import BookingCreate, BookingDecline, BookingOut
from session_api.dependencies import GatewayDep, RequestIdDep, SessionDep, SettingsDep
from session_api.models import Booking, BookingStatus, PayableStatus, PayableType, PaymentAttempt
from session_api.pagination import Page, PageDep, page_of
from session_api.payment import service as payment_service
from session_api.payment.exceptions import (
    AlreadyPaid,
    PaymentBlocked,
    PaymentInProgress,
    PaymentRejected,
    PaymentsUnavailable,
)
from session_api.payment.schemas import AttemptOut, PayRequest
from session_api.ratelimit import PaymentRateLimit
from shared.errors import responses
from shared.ratelimit import TooManyRequests
from shared.schemas import Timestamp

router = APIRouter(tags=["bookings"])

AUTH_ERRORS = (NotAuthenticated, RoleRequired)


@router.post(
    "/v1/bookings",
    response_model=BookingOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(*AUTH_ERRORS, InvalidBooking, ScheduleConflict),
)
async def create_booking(
    body: BookingCreate, client: CurrentClient, session: SessionDep, settings: SettingsDep
) -> Booking:
    """Ask a therapist for a session; it waits for their approval."""
    booking = await booking_service.create_booking(
        session, settings=settings, client=client, request=body
    )
    return booking


@router.get("/v1/bookings", response_model=Page[BookingOut], responses=responses(NotAuthenticated))
async def list_bookings(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[list[BookingStatus] | None, Query(alias="status")] = None,
    payment_status: Annotated[list[PayableStatus] | None, Query()] = None,
    scheduled_from: Annotated[Timestamp | None, Query()] = None,
    scheduled_to: Annotated[Timestamp | None, Query()] = None,
    therapist_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[BookingOut]:
    """Your bookings (as client or as therapist; all for an admin), by scheduled time."""
    result = await booking_service.visible(
        session,
        user=user,
        statuses=status_,
        payment_statuses=payment_status,
        scheduled_from=scheduled_from,
        scheduled_to=scheduled_to,
        therapist_id=therapist_id,
        page=page,
    )
    return page_of(BookingOut, result, page)


@router.get(
    "/v1/bookings/{booking_id}",
    response_model=BookingOut,
    responses=responses(NotAuthenticated, BookingNotFound),
)
async def get_booking(booking: BookingDep) -> Booking:
    """One of your bookings, with its payment status and M-Pesa receipt."""
    return booking


@router.post(
    "/v1/bookings/{booking_id}/approve",
    response_model=BookingOut,
    responses=responses(*AUTH_ERRORS, BookingNotFound, BookingStateConflict, ScheduleConflict),
)
async def approve_booking(
    booking: LockedBookingDep, therapist: CurrentTherapist, session: SessionDep
) -> Booking:
    """Approve a session request made to you; the client can then pay."""
    return await booking_service.approve(session, booking=booking, therapist=therapist)


@router.post(
    "/v1/bookings/{booking_id}/decline",
    response_model=BookingOut,
    responses=responses(*AUTH_ERRORS, BookingNotFound, BookingStateConflict),
)
async def decline_booking(
    booking: LockedBookingDep,
    therapist: CurrentTherapist,
    session: SessionDep,
    body: BookingDecline | None = None,
) -> Booking:
    """Decline a session request made to you."""
    reason = body.reason if body is not None else ""
    return await booking_service.decline(
        session, booking=booking, therapist=therapist, reason=reason
    )


@router.post(
    "/v1/bookings/{booking_id}/cancel",
    response_model=BookingOut,
    responses=responses(*AUTH_ERRORS, BookingNotFound, BookingStateConflict),
)
async def cancel_booking(
    booking: LockedBookingDep, client: CurrentClient, session: SessionDep
) -> Booking:
    """Cancel your booking before it is paid."""
    return await booking_service.cancel(session, booking=booking, client=client)


@router.post(
    "/v1/bookings/{booking_id}/pay",
    response_model=AttemptOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(
        *AUTH_ERRORS,
        BookingNotFound,
        BookingStateConflict,
        PaymentInProgress,
        AlreadyPaid,
        PaymentBlocked,
        PaymentRejected,
        PaymentsUnavailable,
        TooManyRequests,
    ),
    dependencies=[PaymentRateLimit],
)
async def pay_booking(
    body: PayRequest,
    booking: BookingDep,
    client: CurrentClient,
    session: SessionDep,
    gateway: GatewayDep,
    settings: SettingsDep,
    request_id: RequestIdDep,
) -> PaymentAttempt:
    """Pay for your approved booking with M-Pesa: a PIN prompt goes to `phone`."""
    return await booking_service.pay(
        session,
        gateway=gateway,
        settings=settings,
        booking=booking,
        client=client,
        phone=body.phone,
        request_id=request_id,
    )


@router.get(
    "/v1/bookings/{booking_id}/payments",
    response_model=list[AttemptOut],
    responses=responses(NotAuthenticated, BookingNotFound),
)
async def booking_payments(booking: BookingDep, session: SessionDep) -> list[PaymentAttempt]:
    """Every payment attempt for the booking, oldest first."""
    return await payment_service.attempts_for(
        session, payable_type=PayableType.booking, payable_id=booking.id
    )
