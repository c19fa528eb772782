"""One error hierarchy for every way a call to the gateway can fail."""

from __future__ import annotations


class GatewayError(Exception):
    """A call to the gateway did not produce a payment."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        error: str | None = None,
        detail: str | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.error = error
        self.detail = detail
        self.retry_after_s = retry_after_s


class GatewayUnavailable(GatewayError):
    """Unreachable, timed out, overloaded (429) or failing (5xx): safe to try again later with the
    same idempotency key."""


class GatewayAuthError(GatewayError):
    """The gateway refused our service key: a deployment mistake, not the customer's."""


class GatewayRejected(GatewayError):
    """The gateway refused the request itself (4xx); `detail` says why."""


class GatewayIdempotencyConflict(GatewayRejected):
    """The idempotency key is in use: by a request still in flight, or by an earlier request with
    another body. Either way a payment for this attempt already exists at the gateway."""
