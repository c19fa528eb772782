from shared.errors import DomainError, NotFound


class TherapistNotFound(NotFound):
    """No such therapist."""


class InvalidSessionRate(DomainError):
    """The session rate is outside what M-Pesa can collect."""
