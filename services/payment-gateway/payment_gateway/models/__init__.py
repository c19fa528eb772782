"""ORM models of payment-gateway, one file per table, all in the `gateway` schema."""

from payment_gateway.models.base import Base
from payment_gateway.models.callback_inbox import CallbackInbox, CallbackOutcome, CallbackVerdict
from payment_gateway.models.callback_token import CallbackToken
from payment_gateway.models.delivery_attempt import DeliveryAttempt
from payment_gateway.models.event_delivery import DeliveryStatus, EventDelivery
from payment_gateway.models.idempotency_key import IdempotencyKey
from payment_gateway.models.outbox_event import OutboxEvent
from payment_gateway.models.payment import OPEN_STATUSES, Payment, PaymentStatus
from payment_gateway.models.payment_event import EventSource, PaymentEvent

__all__ = [
    "OPEN_STATUSES",
    "Base",
    "CallbackInbox",
    "CallbackOutcome",
    "CallbackToken",
    "CallbackVerdict",
    "DeliveryAttempt",
    "DeliveryStatus",
    "EventDelivery",
    "EventSource",
    "IdempotencyKey",
    "OutboxEvent",
    "Payment",
    "PaymentEvent",
    "PaymentStatus",
]
