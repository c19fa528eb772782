"""Errors of staff refunds; each carries its HTTP status."""

from __future__ import annotations

from shared.errors import Conflict


class NotRefundable(Conflict):
    """Only a paid payment can be refunded (and a deposit only while the wallet still holds it);
    the detail names the payment's state."""
