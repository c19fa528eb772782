"""Errors of refunds; each carries its HTTP status and says what is accepted."""

from __future__ import annotations

from shared.errors import Conflict, NotFound


class NotRefundable(Conflict):
    """Only a completed payment with an M-Pesa receipt can be refunded."""


class UnknownReversalUrl(NotFound):
    """No refund expects a Reversal result at this address."""


class RefundNotFound(NotFound):
    """The payment has no refund."""
