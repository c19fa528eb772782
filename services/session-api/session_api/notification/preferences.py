"""Which notifications a user may turn off, by topic and channel. Anything not listed here is
essential and always goes: payment confirmations with their receipts, failed payments, fallbacks.
In-app notes are the record of what happened and cannot be turned off."""

from __future__ import annotations

from enum import StrEnum

from session_api.models import Channel


class Topic(StrEnum):
    bookings = "bookings"
    reminders = "reminders"
    orders = "orders"
    wallet = "wallet"


DESCRIPTIONS = {
    Topic.bookings: "requests, approvals, declines and payments of sessions (not your receipts)",
    Topic.reminders: "reminders 24 h and 1 h before a session",
    Topic.orders: "an order's progress once paid (not your receipt); new paid orders for staff",
    Topic.wallet: "money added to your wallet",
}

TOPIC_OF_KIND = {
    "booking.requested": Topic.bookings,
    "booking.approved": Topic.bookings,
    "booking.declined": Topic.bookings,
    "booking.paid": Topic.bookings,
    "booking.reminder": Topic.reminders,
    "order.processing": Topic.orders,
    "order.shipped": Topic.orders,
    "order.delivered": Topic.orders,
    "order.paid.staff": Topic.orders,
    "deposit.credited": Topic.wallet,
    "wallet.credited": Topic.wallet,
}

CHANNELS = (Channel.email, Channel.sms)


def topic_of(kind: str) -> Topic | None:
    """The topic a kind of notification belongs to; None: essential."""
    return TOPIC_OF_KIND.get(kind)
