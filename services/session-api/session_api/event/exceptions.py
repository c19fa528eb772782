from shared.errors import DomainError, Unauthorized


class InvalidEventSignature(Unauthorized):
    """The event's signature or timestamp does not check out; nothing was changed."""

    def __init__(self, message: str) -> None:
        # Not a bearer-token endpoint: no WWW-Authenticate challenge.
        super().__init__(message, headers={})


class MalformedEvent(DomainError):
    """The event is signed correctly but its body is not an event session-api takes."""
