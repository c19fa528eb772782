from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from daraja_simulator.dependencies import StateDep, bearer, json_body_doc, json_object
from daraja_simulator.errors import InvalidAuthenticationHeader, InvalidField, daraja_responses
from daraja_simulator.oauth.exceptions import ReversalInvalidAccessToken
from daraja_simulator.oauth.repository import Token
from daraja_simulator.reversal import service
from daraja_simulator.reversal.schemas import REVERSAL_EXAMPLE, ReversalAccepted
from daraja_simulator.transactions.exceptions import InvalidRequestPayload

router = APIRouter(tags=["daraja: reversal"])

ReversalToken = Annotated[Token, Depends(bearer(ReversalInvalidAccessToken))]
Body = Annotated[dict[str, Any], Depends(json_object(InvalidRequestPayload))]


@router.post(
    "/mpesa/reversal/v1/request",
    response_model=ReversalAccepted,
    status_code=200,
    responses=daraja_responses(
        InvalidField,
        InvalidRequestPayload,
        InvalidAuthenticationHeader,
        ReversalInvalidAccessToken,
    ),
    openapi_extra=json_body_doc(REVERSAL_EXAMPLE),
)
async def reversal(state: StateDep, token: ReversalToken, body: Body) -> ReversalAccepted:
    """Reverse a completed transaction; the `Result` is POSTed to ResultURL."""
    return service.reversal(state=state, body=body)
