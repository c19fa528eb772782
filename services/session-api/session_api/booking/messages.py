"""Every sentence a booking's people read about it: in the app, by email and by SMS. Times are
said in Kenya's zone; storage and the API stay in UTC."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from session_api.models import Booking, PaymentAttempt
from session_api.notification.content import Message

NAIROBI = ZoneInfo("Africa/Nairobi")


def when(booking: Booking) -> str:
    return booking.scheduled_at.astimezone(NAIROBI).strftime("%a %d %b %Y, %H:%M EAT")


def requested(booking: Booking, *, client_name: str) -> Message:
    return Message(
        kind="booking.requested",
        title="New session request",
        body=f"{client_name} asked for a {booking.session_type.value} session on {when(booking)}.",
        data={"booking_id": str(booking.id)},
        paragraphs=("Approve or decline it in the app.",),
        action=("Review the request", f"/bookings/{booking.id}"),
    )


def approved(booking: Booking, *, account_reference: str) -> Message:
    return Message(
        kind="booking.approved",
        title="Session approved: pay to confirm",
        body=f"Your session on {when(booking)} is approved. Pay KES {booking.price:,} with "
        "M-Pesa to confirm it.",
        data={"booking_id": str(booking.id), "amount": booking.price},
        details=(("Session", when(booking)), ("Amount", f"KES {booking.price:,}")),
        action=("Pay with M-Pesa", f"/bookings/{booking.id}/pay"),
        payment=(booking.price, account_reference),
    )


def declined(booking: Booking, *, reason: str) -> Message:
    return Message(
        kind="booking.declined",
        title="Session request declined",
        body=f"Your session request for {when(booking)} was declined."
        + (f" Reason: {reason}" if reason else ""),
        data={"booking_id": str(booking.id)},
        paragraphs=("Nothing was charged. You can book another time or therapist.",),
    )


def confirmed(booking: Booking, attempt: PaymentAttempt, *, note: str) -> Message:
    return Message(
        kind="booking.confirmed",
        title="Session confirmed",
        body=f"Payment received{note}. Your session on {when(booking)} is confirmed.",
        data=_paid_data(booking, attempt),
        details=_paid_details(booking, attempt),
        paragraphs=("Your receipt is attached.",),
    )


def paid(booking: Booking, attempt: PaymentAttempt, *, note: str) -> Message:
    return Message(
        kind="booking.paid",
        title="Session paid",
        body=f"The session on {when(booking)} is paid{note} and confirmed.",
        data=_paid_data(booking, attempt),
        details=_paid_details(booking, attempt),
    )


def reminder(booking: Booking, *, other_name: str, lead: int, now: datetime) -> Message:
    # Said from the time actually left, so a reminder caught up after an outage is still true.
    hours = max(1, math.ceil((booking.scheduled_at - now).total_seconds() / 3600))
    return Message(
        kind="booking.reminder",
        title=f"Session in {hours} hour{'s' if hours != 1 else ''}",
        body=f"Reminder: your {booking.session_type.value} session with {other_name} starts "
        f"{when(booking)}.",
        data={"booking_id": str(booking.id), "lead_hours": lead},
    )


def _paid_data(booking: Booking, attempt: PaymentAttempt) -> dict[str, str | None]:
    return {"booking_id": str(booking.id), "receipt_number": attempt.receipt_number}


def _paid_details(booking: Booking, attempt: PaymentAttempt) -> tuple[tuple[str, str], ...]:
    return (("Session", when(booking)), ("Amount", f"KES {attempt.amount:,}"))
