from shared.errors import Conflict, DomainError, NotFound


class OrderNotFound(NotFound):
    """No such order among yours."""


class InvalidOrder(DomainError):
    """The order names a product that is not on sale or adds up to an amount M-Pesa cannot take."""


class OrderStateConflict(Conflict):
    """The order's status does not allow this."""
