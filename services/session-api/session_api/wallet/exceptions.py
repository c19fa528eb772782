from shared.errors import DomainError, NotFound


class DepositNotFound(NotFound):
    """No such deposit in your wallet."""


class InvalidDepositAmount(DomainError):
    """The amount is outside what a deposit accepts."""
