from __future__ import annotations

from daraja_simulator.errors import DarajaError


class InvalidGrantType(DarajaError):
    """`grant_type` missing or not `client_credentials`."""

    error_code = "400.008.02"
    default_message = "Invalid grant type passed"


class InvalidAuthentication(DarajaError):
    """No Basic header, a malformed one, or an unknown consumer key/secret."""

    error_code = "400.008.01"
    default_message = "Invalid Authentication passed"


class StkInvalidAccessToken(DarajaError):
    """M-Pesa Express (STK push and query) with an unknown, invalidated or expired token."""

    error_code = "404.001.03"
    default_message = "Invalid Access Token"


class TransactionStatusInvalidAccessToken(DarajaError):
    """Transaction Status with an unknown, invalidated or expired token."""

    error_code = "400.003.01"
    default_message = "Invalid Access Token"


class PullInvalidAccessToken(DarajaError):
    """Pull Transactions with an unknown, invalidated or expired token."""

    error_code = "401.001"
    default_message = "Invalid Access Token"


class ReversalInvalidAccessToken(DarajaError):
    """Reversal with an unknown, invalidated or expired token (M-Pesa Express's code)."""

    error_code = "404.001.03"
    default_message = "Invalid Access Token"
