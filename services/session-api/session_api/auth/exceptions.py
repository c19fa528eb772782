from shared.errors import Forbidden, Unauthorized


class InvalidCredentials(Unauthorized):
    """The e-mail address and password do not match an active account."""


class NotAuthenticated(Unauthorized):
    """No valid access token: missing, malformed, expired, or for an account that is gone."""


class RoleRequired(Forbidden):
    """Your account's role may not do this."""
