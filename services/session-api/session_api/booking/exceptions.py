from shared.errors import Conflict, DomainError, NotFound


class BookingNotFound(NotFound):
    """No such booking among yours."""


class InvalidBooking(DomainError):
    """The booking request names a time or therapist that cannot be booked."""


class BookingStateConflict(Conflict):
    """The booking's status does not allow this."""


class ScheduleConflict(Conflict):
    """The therapist already has a session at that time."""
