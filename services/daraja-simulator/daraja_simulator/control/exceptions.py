from __future__ import annotations

from shared.errors import Conflict, DomainError, NotFound


class CheckoutNotFound(NotFound):
    """No STK push with that CheckoutRequestID."""


class PromptNotOpen(Conflict):
    """The prompt has already been answered or has expired."""


class FaultNotFound(NotFound):
    """No active fault with that id."""


class UnknownShortcode(NotFound):
    """The shortcode is not configured in SIMULATOR_SHORTCODES."""


class InvalidPeriod(DomainError):
    """`from`/`to` must be YYYY-MM-DD (a Nairobi day) or an ISO 8601 date-time."""

    status_code = 422
