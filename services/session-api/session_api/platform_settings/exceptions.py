"""Errors of the admin settings. Most repeat the gateway's own (same name, same status), so an
admin reads what the gateway decided."""

from __future__ import annotations

from shared.errors import Conflict, DomainError, Forbidden, NotFound, ServiceUnavailable


class PasswordMismatch(Forbidden):
    """The password re-entered is not this admin's."""


class ReadinessChecklistRed(Conflict):
    """Production is refused while an item of the readiness checklist fails."""


class CredentialsRefused(DomainError):
    """Daraja refused the credentials (no token), so they were not saved."""

    status_code = 422


class InsecureCallbackUrl(DomainError):
    """Production credentials need an https callback base URL."""

    status_code = 422


class CredentialsNotConfigured(NotFound):
    """The environment has no Daraja credentials."""


class SettingsUnavailable(ServiceUnavailable):
    """The gateway (or Daraja behind it) could not answer, or the stored credentials could not
    be read; nothing changed."""


# The gateway's error names this domain passes on as its own.
PASSED_ON: dict[str, type[DomainError]] = {
    error.__name__: error
    for error in (
        ReadinessChecklistRed,
        CredentialsRefused,
        InsecureCallbackUrl,
        CredentialsNotConfigured,
    )
}
