from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from daraja_simulator.dependencies import StateDep, bearer, json_body_doc, json_object
from daraja_simulator.errors import InvalidAuthenticationHeader, InvalidField, daraja_responses
from daraja_simulator.oauth.exceptions import (
    PullInvalidAccessToken,
    TransactionStatusInvalidAccessToken,
)
from daraja_simulator.oauth.repository import Token
from daraja_simulator.transactions import service
from daraja_simulator.transactions.exceptions import InvalidRequestPayload, InvalidShortCode
from daraja_simulator.transactions.schemas import (
    PULL_QUERY_EXAMPLE,
    PULL_REGISTER_EXAMPLE,
    TRANSACTION_STATUS_EXAMPLE,
    PullQueryResult,
    PullRegistered,
    TransactionStatusAccepted,
)

router = APIRouter(tags=["daraja: reconciliation"])

StatusToken = Annotated[Token, Depends(bearer(TransactionStatusInvalidAccessToken))]
PullToken = Annotated[Token, Depends(bearer(PullInvalidAccessToken))]
Body = Annotated[dict[str, Any], Depends(json_object(InvalidRequestPayload))]


@router.post(
    "/mpesa/transactionstatus/v1/query",
    response_model=TransactionStatusAccepted,
    status_code=200,
    responses=daraja_responses(
        InvalidField,
        InvalidRequestPayload,
        InvalidAuthenticationHeader,
        TransactionStatusInvalidAccessToken,
    ),
    openapi_extra=json_body_doc(TRANSACTION_STATUS_EXAMPLE),
)
async def transaction_status(
    state: StateDep, token: StatusToken, body: Body
) -> TransactionStatusAccepted:
    """Accept a status query; the `Result` is POSTed to ResultURL (QueueTimeOutURL on timeout)."""
    return service.transaction_status(state=state, body=body)


@router.post(
    "/pulltransactions/v1/register",
    response_model=PullRegistered,
    status_code=200,
    responses=daraja_responses(
        InvalidShortCode,
        InvalidField,
        InvalidRequestPayload,
        InvalidAuthenticationHeader,
        PullInvalidAccessToken,
    ),
    openapi_extra=json_body_doc(PULL_REGISTER_EXAMPLE),
)
async def pull_register(state: StateDep, token: PullToken, body: Body) -> PullRegistered:
    """Register a shortcode for Pull Transactions (once)."""
    return service.pull_register(state=state, body=body)


@router.post(
    "/pulltransactions/v1/query",
    response_model=PullQueryResult,
    status_code=200,
    responses=daraja_responses(
        InvalidShortCode,
        InvalidField,
        InvalidRequestPayload,
        InvalidAuthenticationHeader,
        PullInvalidAccessToken,
    ),
    openapi_extra=json_body_doc(PULL_QUERY_EXAMPLE),
)
async def pull_query(state: StateDep, token: PullToken, body: Body) -> PullQueryResult:
    """C2B transactions of a registered shortcode in a period within the last 48 hours."""
    return service.pull_query(state=state, body=body)
