"""Reconciliation's domain errors."""

from __future__ import annotations

from shared.errors import DomainError, NotFound


class InvalidWindow(DomainError):
    """The window is not a half-open range `[from, to)` of aware timestamps."""

    status_code = 422


class UnknownSource(DomainError):
    """A source that reconciliation does not know."""

    status_code = 422


class RunNotFound(NotFound):
    """No reconciliation run has this id."""


class ExceptionNotFound(NotFound):
    """No reconciliation exception has this id."""


class ExceptionAlreadyResolved(DomainError):
    """The exception was resolved before."""

    status_code = 409


class InvalidResolution(DomainError):
    """The resolution does not fit the exception (for example, attaching to an unknown
    payment)."""

    status_code = 422


class InvalidCursor(DomainError):
    """The pagination cursor is not one this API returned."""

    status_code = 400


class InvalidStatement(DomainError):
    """The file is not an org-portal statement: no header row with the columns it needs."""

    status_code = 422


class StatementTooLarge(DomainError):
    """The statement is larger than GATEWAY_RECONCILIATION_STATEMENT_MAX_BYTES."""

    status_code = 413


class SourceUnavailable(Exception):
    """A source could not be asked right now (Daraja unreachable, rate limited): the run's job
    tries again later from the same checkpoint. Not a verdict."""


class ResultsPending(SourceUnavailable):
    """Transaction Status results are still on their way: the run looks again shortly."""


class UnknownResultUrl(NotFound):
    """No Transaction Status request of ours expects a result at this address."""


class C2BNotConfigured(DomainError):
    """C2B needs GATEWAY_RECONCILIATION_C2B_TOKEN (the secret in its URLs)."""

    status_code = 409


class DarajaUnreachable(DomainError):
    """Daraja did not answer (or refused); the detail says what it said."""

    status_code = 503
