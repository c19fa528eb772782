from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from daraja_simulator.dependencies import StateDep, bearer, json_body_doc, json_object
from daraja_simulator.errors import InvalidAuthenticationHeader, InvalidField, daraja_responses
from daraja_simulator.oauth.exceptions import StkInvalidAccessToken
from daraja_simulator.oauth.repository import Token
from daraja_simulator.stk import service
from daraja_simulator.stk.exceptions import (
    MerchantDoesNotExist,
    SubscriberLocked,
    TransactionBeingProcessed,
    WrongCredentials,
)
from daraja_simulator.stk.schemas import (
    STK_PUSH_EXAMPLE,
    STK_QUERY_EXAMPLE,
    StkPushAccepted,
    StkQueryResult,
)

router = APIRouter(tags=["daraja: m-pesa express"])

StkToken = Annotated[Token, Depends(bearer(StkInvalidAccessToken))]
# A body Daraja cannot read fails on its first field (Safaricom's FAQ: a wrong Content-Type
# gives "Invalid BusinessShortCode").
StkBody = Annotated[dict[str, Any], Depends(json_object(lambda: InvalidField("BusinessShortCode")))]


@router.post(
    "/mpesa/stkpush/v1/processrequest",
    response_model=StkPushAccepted,
    status_code=200,
    responses=daraja_responses(
        InvalidField,
        InvalidAuthenticationHeader,
        StkInvalidAccessToken,
        MerchantDoesNotExist,
        WrongCredentials,
        SubscriberLocked,
    ),
    openapi_extra=json_body_doc(STK_PUSH_EXAMPLE),
)
async def stk_push(state: StateDep, token: StkToken, body: StkBody) -> StkPushAccepted:
    """Send a payment prompt to a phone; the outcome comes later by callback and query."""
    return service.push(state=state, body=body)


@router.post(
    "/mpesa/stkpushquery/v1/query",
    response_model=StkQueryResult,
    status_code=200,
    responses=daraja_responses(
        InvalidField,
        InvalidAuthenticationHeader,
        StkInvalidAccessToken,
        MerchantDoesNotExist,
        WrongCredentials,
        TransactionBeingProcessed,
    ),
    openapi_extra=json_body_doc(STK_QUERY_EXAMPLE),
)
async def stk_query(state: StateDep, token: StkToken, body: StkBody) -> StkQueryResult:
    """The outcome of a push, or "being processed" while it is not known."""
    return service.query(state=state, body=body)
