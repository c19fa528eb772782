"""Daraja's answers as the client's tests fake them."""

import httpx


def invalid_token(status: int, code: str) -> httpx.Response:
    """Daraja's "Invalid Access Token" envelope; each API answers it with its own status and
    code."""
    return httpx.Response(
        status,
        json={"requestId": "r", "errorCode": code, "errorMessage": "Invalid Access Token"},
    )
