"""Errors of stored Daraja credentials, the readiness checklist and the environment switch."""

from __future__ import annotations

from shared.errors import Conflict, DomainError, NotFound, ServiceUnavailable


class UnknownEncryptionKey(ServiceUnavailable):
    """Stored credentials are wrapped by a key this process does not have."""


class CredentialUnreadable(ServiceUnavailable):
    """Stored credentials failed their integrity check; nothing is used."""


class CredentialsNotConfigured(NotFound):
    """The environment has no credentials, stored or in settings."""


class CredentialsRefused(DomainError):
    """Daraja refused the credentials (no token), so they were not saved."""

    status_code = 422


class DarajaUnreachable(ServiceUnavailable):
    """Daraja did not answer, so the credentials could not be checked and were not saved."""


class ReadinessChecklistRed(Conflict):
    """Production is refused while an item of the readiness checklist fails."""


class InsecureCallbackUrl(DomainError):
    """Production credentials need an https callback base URL."""

    status_code = 422
