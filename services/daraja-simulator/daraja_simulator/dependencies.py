"""Request dependencies shared by the rooms."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from daraja_simulator.errors import DarajaError
from daraja_simulator.oauth import service as oauth_service
from daraja_simulator.oauth.repository import Token
from daraja_simulator.state import SimulatorState


def get_state(request: Request) -> SimulatorState:
    state: SimulatorState = request.app.state.simulator
    return state


StateDep = Annotated[SimulatorState, Depends(get_state)]


def bearer(invalid_token: type[DarajaError]) -> Callable[..., Token]:
    """A dependency checking the bearer token, failing with ``invalid_token``."""

    def dependency(
        state: StateDep,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Token:
        return oauth_service.authenticate(
            state=state, authorization=authorization, invalid_token=invalid_token
        )

    return dependency


def json_object(invalid: Callable[[], DarajaError]) -> Callable[..., Awaitable[dict[str, Any]]]:
    """A dependency reading the body as a JSON object without FastAPI's 422s: Daraja answers a
    body it cannot read with its own error (``invalid``). Decimals stay Decimal, so an amount is
    never a float."""

    async def dependency(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body(), parse_float=Decimal)
        except ValueError as exc:
            raise invalid() from exc
        if not isinstance(body, dict):
            raise invalid()
        return body

    return dependency


def json_body_doc(example: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI for a body read by :func:`json_object`: FastAPI cannot infer it."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}, "example": example}},
        }
    }
