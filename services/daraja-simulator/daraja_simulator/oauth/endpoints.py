from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query

from daraja_simulator.dependencies import StateDep
from daraja_simulator.errors import daraja_responses
from daraja_simulator.oauth import service
from daraja_simulator.oauth.exceptions import InvalidAuthentication, InvalidGrantType
from daraja_simulator.oauth.schemas import AccessToken

router = APIRouter(tags=["daraja: oauth"])


@router.get(
    "/oauth/v1/generate",
    response_model=AccessToken,
    status_code=200,
    responses=daraja_responses(InvalidGrantType, InvalidAuthentication),
)
async def generate(
    state: StateDep,
    grant_type: Annotated[str | None, Query()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> AccessToken:
    """Issue an access token for a consumer key and secret sent as HTTP Basic credentials."""
    return service.generate_token(state=state, grant_type=grant_type, authorization=authorization)
