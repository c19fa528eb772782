from shared.errors import Conflict, DomainError, NotFound, ServiceUnavailable


class AttemptNotFound(NotFound):
    """No such payment attempt among yours."""


class PaymentInProgress(Conflict):
    """A payment for this is already waiting for the customer."""


class AlreadyPaid(Conflict):
    """This has been paid; nothing more is due."""


class PaymentRejected(DomainError):
    """The payment gateway refused the payment request."""


class PaymentBlocked(Conflict):
    """M-Pesa cannot take this payment right now: the phone already has a prompt open, or the same
    amount was just asked of it. Retry after `Retry-After` seconds."""


class PaymentsUnavailable(ServiceUnavailable):
    """The payment gateway cannot take payments right now; retry after `Retry-After` seconds."""


class ReceiptNotAvailable(Conflict):
    """A receipt exists only for a paid attempt whose M-Pesa receipt number has arrived."""
