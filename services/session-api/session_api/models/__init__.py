"""ORM models of session-api, one file per table, all in the `sessions` schema."""

from session_api.models.audit_checkpoint import AuditCheckpoint
from session_api.models.audit_entry import AuditEntry
from session_api.models.base import Base
from session_api.models.booking import Booking, BookingStatus, SessionType
from session_api.models.customer_order import Order, OrderStatus
from session_api.models.gateway_event import EventOutcome, GatewayEvent
from session_api.models.notification import Notification
from session_api.models.notification_delivery import Channel, DeliveryStatus, NotificationDelivery
from session_api.models.notification_preference import NotificationPreference
from session_api.models.order_item import OrderItem
from session_api.models.payment_attempt import (
    AttemptStatus,
    PayableStatus,
    PayableType,
    PaymentAttempt,
)
from session_api.models.platform_setting import PAYMENT_ENVIRONMENTS, PlatformSetting
from session_api.models.product import Product
from session_api.models.risk_flag import RiskFlag, RiskKind
from session_api.models.therapist_profile import TherapistProfile
from session_api.models.user import User, UserRole
from session_api.models.wallet import Wallet
from session_api.models.wallet_deposit import WalletDeposit
from session_api.models.wallet_ledger_entry import LedgerEntryKind, WalletLedgerEntry

__all__ = [
    "PAYMENT_ENVIRONMENTS",
    "AttemptStatus",
    "AuditCheckpoint",
    "AuditEntry",
    "Base",
    "Booking",
    "BookingStatus",
    "Channel",
    "DeliveryStatus",
    "EventOutcome",
    "GatewayEvent",
    "LedgerEntryKind",
    "Notification",
    "NotificationDelivery",
    "NotificationPreference",
    "Order",
    "OrderItem",
    "OrderStatus",
    "PayableStatus",
    "PayableType",
    "PaymentAttempt",
    "PlatformSetting",
    "Product",
    "RiskFlag",
    "RiskKind",
    "SessionType",
    "TherapistProfile",
    "User",
    "UserRole",
    "Wallet",
    "WalletDeposit",
    "WalletLedgerEntry",
]
