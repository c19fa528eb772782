from shared.errors import Conflict, Forbidden, NotFound, ServiceUnavailable


class WrongPassword(Forbidden):
    """Erasing your account needs your current password."""


class UserNotFound(NotFound):
    """No account has this id."""


class ErasureRefused(Conflict):
    """The account cannot be erased now: a payment is in flight, or it is your own (use
    DELETE /v1/me), or it is already erased."""


class ErasureUnavailable(ServiceUnavailable):
    """The payment gateway could not erase the payments' phones; nothing was erased. Retry after
    `Retry-After` seconds."""
