"""Errors of the STK callback receiver."""

from __future__ import annotations

from shared.errors import DomainError, Forbidden, NotFound


class UnknownCallback(NotFound):
    """No payment expects a callback at this address."""


class CallbackSourceRefused(Forbidden):
    """The callback came from an address outside GATEWAY_CALLBACK_ALLOWED_CIDRS."""


class CallbackTooLarge(DomainError):
    """The callback body is larger than GATEWAY_CALLBACK_MAX_BYTES."""

    status_code = 413
