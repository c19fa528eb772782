"""Errors of erasure."""

from __future__ import annotations

from shared.errors import Conflict


class PaymentInFlight(Conflict):
    """A payment to erase is still open (pending or sent): erase once it has ended."""
