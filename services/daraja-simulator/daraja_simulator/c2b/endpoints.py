from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from daraja_simulator.c2b import service
from daraja_simulator.c2b.exceptions import NotRegistered, UrlsAlreadyRegistered
from daraja_simulator.c2b.schemas import (
    REGISTER_EXAMPLE,
    HandPayment,
    HandPaymentView,
    Registered,
)
from daraja_simulator.dependencies import StateDep, bearer, json_body_doc, json_object
from daraja_simulator.errors import InvalidAuthenticationHeader, InvalidField, daraja_responses
from daraja_simulator.oauth.exceptions import StkInvalidAccessToken
from daraja_simulator.oauth.repository import Token
from daraja_simulator.transactions.exceptions import InvalidRequestPayload, InvalidShortCode
from shared.errors import responses

router = APIRouter(tags=["daraja: c2b"])
control_router = APIRouter(prefix="/simulator", tags=["simulator control"])

C2BToken = Annotated[Token, Depends(bearer(StkInvalidAccessToken))]
Body = Annotated[dict[str, Any], Depends(json_object(InvalidRequestPayload))]


@router.post(
    "/mpesa/c2b/v1/registerurl",
    response_model=Registered,
    response_model_by_alias=True,
    responses=daraja_responses(
        InvalidShortCode,
        InvalidField,
        InvalidRequestPayload,
        InvalidAuthenticationHeader,
        StkInvalidAccessToken,
        UrlsAlreadyRegistered,
    ),
    openapi_extra=json_body_doc(REGISTER_EXAMPLE),
)
async def register_urls(state: StateDep, token: C2BToken, body: Body) -> Registered:
    """Register the paybill's ConfirmationURL and ValidationURL (again in sandbox mode)."""
    return service.register(state=state, body=body)


@control_router.post(
    "/c2b",
    response_model=HandPaymentView,
    responses=responses(NotRegistered),
)
async def pay_by_hand(state: StateDep, payment: HandPayment) -> HandPaymentView:
    """A customer pays the paybill by hand: validation, a ledger entry, the confirmation."""
    return await service.pay_by_hand(state=state, payment=payment)
