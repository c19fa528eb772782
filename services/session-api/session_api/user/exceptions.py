from shared.errors import Conflict


class EmailTaken(Conflict):
    """An account with this e-mail address exists."""
