"""M-Pesa Express errors. Four different meanings share `500.001.1001`; only the message tells
them apart, exactly as on Daraja."""

from __future__ import annotations

from daraja_simulator.errors import DarajaError


class MerchantDoesNotExist(DarajaError):
    """BusinessShortCode is not a shortcode allowed to push."""

    error_code = "500.001.1001"
    default_message = "Merchant does not exist"


class WrongCredentials(DarajaError):
    """Password is not base64(BusinessShortCode + passkey + Timestamp)."""

    error_code = "500.001.1001"
    default_message = "Wrong credentials"


class SubscriberLocked(DarajaError):
    """The phone already has an open prompt."""

    error_code = "500.001.1001"
    default_message = (
        "Unable to lock subscriber, a transaction is already in process for the current subscriber"
    )


class TransactionBeingProcessed(DarajaError):
    """STK query while the outcome is not known yet."""

    error_code = "500.001.1001"
    default_message = "The transaction is being processed"
