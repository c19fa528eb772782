"""Errors of the audit API."""

from __future__ import annotations

from shared.errors import DomainError


class InvalidAuditFilter(DomainError):
    """A filter of the audit list is not usable."""

    status_code = 400
