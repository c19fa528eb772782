from shared.errors import DomainError, NotFound


class NotificationNotFound(NotFound):
    """No such notification among yours."""


class UnknownReportToken(NotFound):
    """The delivery-report URL's token is not ours (answered as not found, revealing nothing)."""


class MalformedReport(DomainError):
    """A delivery report without the form fields Africa's Talking sends."""

    status_code = 400
