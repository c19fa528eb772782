"""Errors of service authentication."""

from __future__ import annotations

from shared.errors import Unauthorized


class InvalidApiKey(Unauthorized):
    """Missing or unknown service API key."""
