from __future__ import annotations

from daraja_simulator.errors import DarajaError
from shared.errors import DomainError


class UrlsAlreadyRegistered(DarajaError):
    """Production registers C2B URLs once."""

    error_code = "500.003.1001"
    default_message = "Urls are already registered"


class NotRegistered(DomainError):
    """No C2B URLs are registered for the shortcode: M-Pesa would take the money and tell
    nobody."""

    status_code = 409
