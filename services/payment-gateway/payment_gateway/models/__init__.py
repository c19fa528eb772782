"""ORM models of payment-gateway, one file per table, all in the `gateway` schema."""

from payment_gateway.models.audit_checkpoint import AuditCheckpoint
from payment_gateway.models.audit_entry import AuditEntry
from payment_gateway.models.base import Base
from payment_gateway.models.callback_inbox import CallbackInbox, CallbackOutcome, CallbackVerdict
from payment_gateway.models.callback_token import CallbackToken
from payment_gateway.models.daraja_credential import (
    SECRET_COLUMNS,
    DarajaCredential,
    DarajaEnvironment,
    ShortcodeType,
)
from payment_gateway.models.delivery_attempt import DeliveryAttempt
from payment_gateway.models.event_delivery import DeliveryStatus, EventDelivery
from payment_gateway.models.gateway_setting import GatewaySetting
from payment_gateway.models.idempotency_key import IdempotencyKey
from payment_gateway.models.mpesa_record import MpesaRecord
from payment_gateway.models.outbox_event import OutboxEvent
from payment_gateway.models.payment import OPEN_STATUSES, Payment, PaymentStatus
from payment_gateway.models.payment_event import EventSource, PaymentEvent
from payment_gateway.models.payment_poll import PaymentPoll
from payment_gateway.models.payment_settle_hour import PaymentSettleHour
from payment_gateway.models.payment_stats_hour import PaymentStatsHour
from payment_gateway.models.payment_stats_state import PaymentStatsState
from payment_gateway.models.reconciliation_exception import (
    ExceptionStatus,
    ReconciliationException,
    ResolveAction,
)
from payment_gateway.models.reconciliation_item import SELF_SETTLING, ReconciliationItem, Verdict
from payment_gateway.models.reconciliation_run import ReconciliationRun, RecordSource, RunStatus
from payment_gateway.models.refund import Refund, RefundState
from payment_gateway.models.result_inbox import ResultInbox
from payment_gateway.models.statement_import import StatementImport
from payment_gateway.models.status_query import StatusQuery, StatusQueryState

__all__ = [
    "OPEN_STATUSES",
    "SECRET_COLUMNS",
    "SELF_SETTLING",
    "AuditCheckpoint",
    "AuditEntry",
    "Base",
    "CallbackInbox",
    "CallbackOutcome",
    "CallbackToken",
    "CallbackVerdict",
    "DarajaCredential",
    "DarajaEnvironment",
    "DeliveryAttempt",
    "DeliveryStatus",
    "EventDelivery",
    "EventSource",
    "ExceptionStatus",
    "GatewaySetting",
    "IdempotencyKey",
    "MpesaRecord",
    "OutboxEvent",
    "Payment",
    "PaymentEvent",
    "PaymentPoll",
    "PaymentSettleHour",
    "PaymentStatsHour",
    "PaymentStatsState",
    "PaymentStatus",
    "ReconciliationException",
    "ReconciliationItem",
    "ReconciliationRun",
    "RecordSource",
    "Refund",
    "RefundState",
    "ResolveAction",
    "ResultInbox",
    "RunStatus",
    "ShortcodeType",
    "StatementImport",
    "StatusQuery",
    "StatusQueryState",
    "Verdict",
]
