"""The payment gateway: one client class for its REST API, its event schema, and the Standard
Webhooks signature check for the events it sends us."""

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
    GatewayEventBody,
    GatewayPayment,
    GatewayPaymentStatus,
)
from session_api.integrations.gateway.webhooks import WebhookVerificationError, sign, verify

__all__ = [
    "CreatePaymentRequest",
    "GatewayAuthError",
    "GatewayClient",
    "GatewayError",
    "GatewayEventBody",
    "GatewayIdempotencyConflict",
    "GatewayPayment",
    "GatewayPaymentStatus",
    "GatewayRejected",
    "GatewayUnavailable",
    "WebhookVerificationError",
    "sign",
    "verify",
]
