"""The payment gateway: one client class for its REST API and the schema of its events (their
Standard Webhooks signatures are checked with `shared.webhook_signing`)."""

from session_api.integrations.gateway.client import GatewayClient
from session_api.integrations.gateway.exceptions import (
    GatewayAuthError,
    GatewayError,
    GatewayIdempotencyConflict,
    GatewayRejected,
    GatewayUnavailable,
)
from session_api.integrations.gateway.schemas import (
    CreatePaymentRequest,
    EventEnvelope,
    GatewayEventBody,
    GatewayPayment,
    GatewayPaymentFacts,
    GatewayPaymentStatus,
    GatewayRefund,
    ReconciliationEventBody,
    ReconciliationRunSummary,
)

__all__ = [
    "CreatePaymentRequest",
    "EventEnvelope",
    "GatewayAuthError",
    "GatewayClient",
    "GatewayError",
    "GatewayEventBody",
    "GatewayIdempotencyConflict",
    "GatewayPayment",
    "GatewayPaymentFacts",
    "GatewayPaymentStatus",
    "GatewayRefund",
    "GatewayRejected",
    "GatewayUnavailable",
    "ReconciliationEventBody",
    "ReconciliationRunSummary",
]
