"""Errors of staff review; each carries its HTTP status."""

from __future__ import annotations

from shared.errors import Conflict


class ReviewConflict(Conflict):
    """The payment cannot take this decision now (not held for review, decided already, or its
    receipt belongs to another payment); the detail names its state."""
