from __future__ import annotations

from daraja_simulator.errors import DarajaError


class InvalidRequestPayload(DarajaError):
    """The body is not a JSON object."""

    error_code = "400.002.05"
    default_message = "Invalid Request Payload"


class InvalidShortCode(DarajaError):
    """Pull Transactions for a shortcode that is unknown or not registered for Pull."""

    error_code = "400.001"
    default_message = "Invalid ShortCode"
