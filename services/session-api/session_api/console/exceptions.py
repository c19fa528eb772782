"""Errors of the staff console."""

from __future__ import annotations

from shared.errors import DomainError, NotFound, ServiceUnavailable


class PaymentAttemptNotFound(NotFound):
    """No payment attempt has this id."""


class InvalidCursor(DomainError):
    """The cursor is not one this list returned with the same `sort`."""

    status_code = 400


class InvalidFilter(DomainError):
    """A filter's value is not accepted (the message says what is)."""

    status_code = 400


class GatewayStatsUnavailable(ServiceUnavailable):
    """The payment gateway, which computes the stats, did not answer; try again shortly."""
