"""Registration, login, access tokens and the current-user dependencies."""
