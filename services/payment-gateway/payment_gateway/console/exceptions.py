"""Errors of the staff console's service endpoints."""

from __future__ import annotations

from shared.errors import DomainError


class InvalidWindow(DomainError):
    """The stats window is not a valid range: `from` before `to`, both with a UTC offset, at
    most the configured number of days apart."""

    status_code = 400
