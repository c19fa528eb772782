"""Token issue and the bearer check."""

from __future__ import annotations

import base64
import binascii
import hmac

from daraja_simulator.config import App
from daraja_simulator.errors import DarajaError, InvalidAuthenticationHeader
from daraja_simulator.oauth.exceptions import InvalidAuthentication, InvalidGrantType
from daraja_simulator.oauth.repository import Token
from daraja_simulator.oauth.schemas import AccessToken
from daraja_simulator.state import SimulatorState


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme != "Basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, sep, secret = decoded.partition(":")
    return (key, secret) if sep else None


def _app_for(state: SimulatorState, key: str, secret: str) -> App | None:
    for app in state.settings.APPS:
        same_key = hmac.compare_digest(app.consumer_key.encode(), key.encode())
        if same_key and hmac.compare_digest(app.consumer_secret.encode(), secret.encode()):
            return app
    return None


def generate_token(
    *, state: SimulatorState, grant_type: str | None, authorization: str | None
) -> AccessToken:
    settings = state.settings
    if grant_type != "client_credentials":
        raise InvalidGrantType()
    credentials = _basic_credentials(authorization)
    if credentials is None:
        raise InvalidAuthentication()
    app = _app_for(state, *credentials)
    if app is None:
        raise InvalidAuthentication(bare=settings.OAUTH_BAD_CREDENTIALS_EMPTY_BODY)
    token = state.tokens.issue(
        value=state.ids.access_token(),
        consumer_key=app.consumer_key,
        now=state.clock.now(),
        ttl_s=settings.TOKEN_TTL_S,
        invalidate_previous=settings.INVALIDATE_PREVIOUS_TOKEN,
    )
    state.notify()
    expires_in: str | int = settings.TOKEN_TTL_S
    if not settings.TOKEN_EXPIRES_IN_AS_NUMBER:
        expires_in = str(expires_in)
    return AccessToken(access_token=token.value, expires_in=expires_in)


def authenticate(
    *, state: SimulatorState, authorization: str | None, invalid_token: type[DarajaError]
) -> Token:
    """The token behind ``Authorization: Bearer …``; each API family has its own error for a
    bad token (``invalid_token``)."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme != "Bearer" or not value.strip():
        raise InvalidAuthenticationHeader()
    token = state.tokens.valid(value.strip(), now=state.clock.now())
    if token is None:
        raise invalid_token()
    return token
