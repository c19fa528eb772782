"""Bookings: `pending_approval → approved → confirmed` (paid), or `declined` / `cancelled`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from session_api.booking import messages
from session_api.booking.exceptions import (
    BookingNotFound,
    BookingStateConflict,
    InvalidBooking,
    ScheduleConflict,
)
from session_api.booking.repository import BookingRepository
from session_api.booking.schemas import BookingCreate
from session_api.config import Settings
from session_api.integrations.gateway import GatewayClient
from session_api.models import (
    Booking,
    BookingStatus,
    PayableStatus,
    PayableType,
    PaymentAttempt,
    User,
)
from session_api.models.notification_delivery import Channel
from session_api.notification import service as notification_service
from session_api.pagination import PageParams
from session_api.payment import payable as payable_flow
from session_api.payment import service as payment_service
from session_api.payment.payable import BilledFlow
from session_api.therapist import service as therapist_service
from session_api.therapist.exceptions import TherapistNotFound
from session_api.wallet import service as wallet_service

IN_APP_AND_EMAIL = (notification_service.IN_APP, Channel.email)


async def create_booking(
    session: AsyncSession,
    *,
    settings: Settings,
    client: User,
    request: BookingCreate,
    now: datetime | None = None,
) -> Booking:
    now = now or datetime.now(UTC)
    earliest = now + timedelta(minutes=settings.BOOKING_MIN_LEAD_MINUTES)
    if request.scheduled_at < earliest:
        raise InvalidBooking(
            f"scheduled_at: must be in the future, at least {settings.BOOKING_MIN_LEAD_MINUTES} "
            f"minutes from now (after {earliest.isoformat(timespec='minutes')}); "
            f"got {request.scheduled_at.isoformat()}"
        )
    try:
        therapist, profile = await therapist_service.get_therapist(
            session, therapist_id=request.therapist_id
        )
    except TherapistNotFound as e:
        raise InvalidBooking(f"therapist_id: no therapist {request.therapist_id}") from e
    if not profile.is_accepting_clients:
        raise InvalidBooking(f"therapist_id: {therapist.full_name} is not taking new clients")
    repository = BookingRepository.from_session(session)
    duration = timedelta(minutes=settings.BOOKING_DURATION_MINUTES)
    if await repository.overlapping(
        therapist_id=therapist.id, starts=request.scheduled_at, duration=duration, excluding=None
    ):
        raise ScheduleConflict(
            f"scheduled_at: {therapist.full_name} already has a session at that time"
        )
    booking = await repository.create(
        Booking(
            id=uuid.uuid4(),
            client_id=client.id,
            therapist_id=therapist.id,
            session_type=request.session_type,
            scheduled_at=request.scheduled_at.astimezone(UTC),
            duration_minutes=settings.BOOKING_DURATION_MINUTES,
            # The price is the therapist's rate now; a later rate change does not touch it.
            price=profile.session_rate,
            status=BookingStatus.pending_approval,
            notes=request.notes,
            payment_status=PayableStatus.unpaid,
        )
    )
    booking = await repository.reload(booking)
    await notification_service.announce(
        session,
        event_key=f"booking.requested:{booking.id}",
        user_id=therapist.id,
        channels=IN_APP_AND_EMAIL,
        message=messages.requested(booking, client_name=client.full_name),
    )
    return booking


async def get_booking(
    session: AsyncSession, *, booking_id: uuid.UUID, user: User, for_update: bool = False
) -> Booking:
    """A booking the user is part of (any for an admin); anyone else's is not found."""
    booking = await BookingRepository.from_session(session).get_visible(
        booking_id, user=user, for_update=for_update
    )
    if booking is None:
        raise BookingNotFound(f"no booking {booking_id}")
    return booking


def _require_status(booking: Booking, allowed: set[BookingStatus], action: str) -> None:
    if booking.status not in allowed:
        raise BookingStateConflict(
            f"a booking that is {booking.status.value} cannot be {action}; only one that is "
            + " or ".join(sorted(s.value for s in allowed))
        )


async def approve(
    session: AsyncSession, *, booking: Booking, therapist: User, now: datetime | None = None
) -> Booking:
    _require_own_session(booking, therapist)
    _require_status(booking, {BookingStatus.pending_approval}, "approved")
    repository = BookingRepository.from_session(session)
    await repository.lock_therapist_calendar(therapist.id)
    clash = await repository.overlapping(
        therapist_id=therapist.id,
        starts=booking.scheduled_at,
        duration=timedelta(minutes=booking.duration_minutes),
        excluding=booking.id,
    )
    if clash is not None:
        raise ScheduleConflict(
            f"you already have a session from {clash.scheduled_at.isoformat()} that overlaps"
        )
    booking.status = BookingStatus.approved
    booking.approved_at = now or datetime.now(UTC)
    charge = flow.charge(booking)
    await notification_service.announce(
        session,
        event_key=f"booking.approved:{booking.id}",
        user_id=booking.client_id,
        channels=IN_APP_AND_EMAIL,
        message=messages.approved(booking, account_reference=charge.account_reference),
    )
    return await repository.reload(booking)


async def decline(
    session: AsyncSession,
    *,
    booking: Booking,
    therapist: User,
    reason: str,
    now: datetime | None = None,
) -> Booking:
    _require_own_session(booking, therapist)
    _require_status(booking, {BookingStatus.pending_approval}, "declined")
    booking.status = BookingStatus.declined
    booking.declined_at = now or datetime.now(UTC)
    booking.decline_reason = reason or None
    await notification_service.announce(
        session,
        event_key=f"booking.declined:{booking.id}",
        user_id=booking.client_id,
        channels=IN_APP_AND_EMAIL,
        message=messages.declined(booking, reason=reason),
    )
    return await BookingRepository.from_session(session).reload(booking)


async def cancel(
    session: AsyncSession, *, booking: Booking, client: User, now: datetime | None = None
) -> Booking:
    if booking.client_id != client.id:
        raise BookingNotFound(f"no booking {booking.id}")
    _require_status(booking, {BookingStatus.pending_approval, BookingStatus.approved}, "cancelled")
    if booking.payment_status is PayableStatus.processing:
        raise BookingStateConflict(
            "a payment for this booking is waiting on your phone; cancel the M-Pesa prompt or let "
            "it finish before cancelling the booking"
        )
    booking.status = BookingStatus.cancelled
    booking.cancelled_at = now or datetime.now(UTC)
    await notification_service.notify(
        session,
        user_id=booking.therapist_id,
        kind="booking.cancelled",
        title="Session cancelled",
        body=f"{booking.client.full_name} cancelled the session on {messages.when(booking)}.",
        data={"booking_id": str(booking.id)},
    )
    return await BookingRepository.from_session(session).reload(booking)


async def pay(
    session: AsyncSession,
    *,
    gateway: GatewayClient,
    settings: Settings,
    booking: Booking,
    client: User,
    phone: str,
    request_id: str | None = None,
) -> PaymentAttempt:
    """Start an M-Pesa payment for an approved booking."""
    if booking.client_id != client.id:
        raise BookingNotFound(f"no booking {booking.id}")
    if booking.status is BookingStatus.pending_approval:
        raise BookingStateConflict(
            "this booking is waiting for the therapist's approval; you can pay once it is approved"
        )
    if booking.status is BookingStatus.confirmed:
        raise BookingStateConflict("this booking is already paid and confirmed")
    _require_status(booking, {BookingStatus.approved}, "paid")
    _, attempt = await payable_flow.pay(
        session,
        gateway=gateway,
        settings=settings,
        flow=flow,
        charge=flow.charge(booking),
        phone=phone,
        request_id=request_id,
    )
    return attempt


class BookingFlow(BilledFlow[Booking]):
    """Paid confirms an approved booking."""

    type = PayableType.booking
    repository = BookingRepository
    description = "Therapy"

    def price(self, payable: Booking) -> tuple[uuid.UUID, int]:
        return payable.client_id, payable.price

    def awaits_payment(self, payable: Booking) -> bool:
        return payable.status is BookingStatus.approved

    def still_payable(self, payable: Booking) -> str:
        return f"Your session on {messages.when(payable)} is still approved; you can pay again."

    async def settle(
        self, session: AsyncSession, payable: Booking, attempt: PaymentAttempt
    ) -> None:
        now = attempt.paid_at or datetime.now(UTC)
        payable.status = BookingStatus.confirmed
        payable.confirmed_at = now
        payable.payment_status = PayableStatus.paid
        payable.payment_reason = None
        payable.receipt_number = attempt.receipt_number
        payable.paid_at = now
        payable.last_attempt_id = attempt.id
        note = payment_service.receipt_note(attempt)
        await notification_service.announce(
            session,
            event_key=f"booking.confirmed:{payable.id}",
            user_id=payable.client_id,
            channels=IN_APP_AND_EMAIL,
            receipt_attempt_id=attempt.id,
            message=messages.confirmed(payable, attempt, note=note),
        )
        await notification_service.announce(
            session,
            event_key=f"booking.paid:{payable.id}",
            user_id=payable.therapist_id,
            channels=IN_APP_AND_EMAIL,
            message=messages.paid(payable, attempt, note=note),
        )

    async def refunded(
        self, session: AsyncSession, payable: Booking, attempt: PaymentAttempt
    ) -> None:
        # A refunded session is not held for the client any more; the therapist hears why.
        if payable.status is BookingStatus.confirmed:
            payable.status = BookingStatus.cancelled
            payable.cancelled_at = datetime.now(UTC)
            await notification_service.notify(
                session,
                user_id=payable.therapist_id,
                kind="booking.refunded",
                title="Session cancelled and refunded",
                body=f"The session on {messages.when(payable)} was refunded to the client and "
                "is cancelled.",
                data={"booking_id": str(payable.id)},
            )
        await super().refunded(session, payable, attempt)


flow = BookingFlow(
    keep_unapplied=wallet_service.keep_unapplied_payment,
    take_back_unapplied=wallet_service.take_back_refunded,
)


async def send_reminders(session: AsyncSession, *, lead_hours: list[int], now: datetime) -> int:
    """Remind the client (and, at the last reminder, the therapist) of confirmed sessions.

    Each lead time is sent at most once per booking; when several are due at once (a session
    confirmed at short notice), only the nearest is sent and the others are marked done.
    """
    if not lead_hours:
        return 0
    bookings = await BookingRepository.from_session(session).confirmed_between(
        start=now, end=now + timedelta(hours=max(lead_hours))
    )
    reminded = 0
    for booking in bookings:
        due = [
            lead
            for lead in lead_hours
            if lead not in booking.reminders_sent
            and booking.scheduled_at - now <= timedelta(hours=lead)
        ]
        if not due:
            continue
        lead = min(due)
        recipients = [booking.client_id]
        if lead == min(lead_hours):
            recipients.append(booking.therapist_id)
        for user_id in recipients:
            # The outbox row's key (booking, lead time, person, channel) is unique: however
            # often or concurrently this runs, each reminder is sent once.
            await notification_service.announce(
                session,
                event_key=f"booking.reminder.{lead}h:{booking.id}",
                user_id=user_id,
                channels=(notification_service.IN_APP, Channel.sms),
                message=messages.reminder(
                    booking,
                    other_name=(
                        booking.therapist.full_name
                        if user_id == booking.client_id
                        else booking.client.full_name
                    ),
                    lead=lead,
                    now=now,
                ),
            )
        booking.reminders_sent = sorted({*booking.reminders_sent, *due})
        reminded += 1
    return reminded


def _require_own_session(booking: Booking, therapist: User) -> None:
    if booking.therapist_id != therapist.id:
        raise BookingNotFound(f"no booking {booking.id}")


async def visible(
    session: AsyncSession,
    *,
    user: User,
    statuses: list[BookingStatus] | None,
    payment_statuses: list[PayableStatus] | None,
    scheduled_from: datetime | None,
    scheduled_to: datetime | None,
    therapist_id: uuid.UUID | None,
    page: PageParams,
) -> tuple[list[Booking], int]:
    return await BookingRepository.from_session(session).visible(
        user=user,
        statuses=statuses,
        payment_statuses=payment_statuses,
        scheduled_from=scheduled_from,
        scheduled_to=scheduled_to,
        therapist_id=therapist_id,
        page=page,
    )
