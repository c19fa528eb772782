"""Errors of staff review of held payments; each carries its HTTP status."""

from __future__ import annotations

from shared.errors import Conflict, DomainError


class NotHeldForReview(Conflict):
    """The payment is not held for review (never was, or was decided already)."""


class ReceiptTaken(Conflict):
    """The held callback's receipt is already recorded on another payment."""


class MissingActingUser(DomainError):
    """Staff actions need the X-Acting-User header: `user:<user id>` of the person acting."""

    status_code = 400
