"""Errors of the payments domain; each carries its HTTP status and says what is accepted."""

from __future__ import annotations

from shared.errors import Conflict, DomainError, NotFound, ServiceUnavailable


class PaymentNotFound(NotFound):
    """No payment has this id."""


class PhoneBusy(Conflict):
    """The phone already has an open payment; Daraja allows one prompt per phone at a time."""


class DuplicatePayment(Conflict):
    """The same phone and amount were pushed within Daraja's 2-minute duplicate window."""


class AmountOutOfRange(DomainError):
    """The amount is outside the configured limits."""

    status_code = 422


class IllegalTransition(Conflict):
    """The payment's current status does not allow this change."""


class RefreshTooSoon(DomainError):
    """This payment was refreshed moments ago; wait before asking Daraja again."""

    status_code = 429


class DarajaUnreachable(ServiceUnavailable):
    """Daraja did not answer; the payment is unchanged and monitoring continues."""


class InvalidCursor(DomainError):
    """The pagination cursor is not one this API returned."""

    status_code = 400


class InvalidFilter(DomainError):
    """A list filter has a value the API does not accept."""

    status_code = 400
