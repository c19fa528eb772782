"""`/v1/payments/{payment_id}/refund`: staff refund a completed payment through M-Pesa Reversal;
`/v1/callbacks/reversal/{token}`: where Daraja posts the Reversal's result."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.auth.exceptions import InvalidApiKey
from payment_gateway.callback.dependencies import IncomingCallbackDep
from payment_gateway.callback.exceptions import CallbackSourceRefused, CallbackTooLarge
from payment_gateway.dependencies import SettingsDep
from payment_gateway.payment.exceptions import PaymentNotFound
from payment_gateway.reconciliation.schemas import ResultAck
from payment_gateway.refund import service
from payment_gateway.refund.exceptions import NotRefundable, RefundNotFound, UnknownReversalUrl
from payment_gateway.refund.schemas import RefundCreate, RefundOut
from payment_gateway.review.dependencies import ActingUserDep
from payment_gateway.review.exceptions import MissingActingUser
from shared.db import SessionDep
from shared.errors import responses

router = APIRouter(prefix="/v1/payments", tags=["refunds"])
results_router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])


@router.post(
    "/{payment_id}/refund",
    response_model=RefundOut,
    status_code=202,
    responses={
        200: {"model": RefundOut, "description": "The payment's refund was asked for before."},
        **responses(InvalidApiKey, MissingActingUser, PaymentNotFound, NotRefundable),
    },
)
async def refund_payment(
    payment_id: uuid.UUID,
    body: RefundCreate,
    actor: ActingUserDep,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> RefundOut:
    """Refund a completed payment through M-Pesa Reversal; asking again returns the refund."""
    refund, payment, created = await service.request(
        session, payment_id=payment_id, reason=body.reason, actor=actor, settings=settings
    )
    if not created:
        response.status_code = 200
    return RefundOut.of(refund, payment)


@router.get(
    "/{payment_id}/refund",
    response_model=RefundOut,
    responses=responses(InvalidApiKey, RefundNotFound),
)
async def get_refund(payment_id: uuid.UUID, _: ServiceDep, session: SessionDep) -> RefundOut:
    """The payment's refund as it stands."""
    found = await service.get(session, payment_id=payment_id)
    if found is None:
        raise RefundNotFound(f"payment {payment_id} has no refund")
    return RefundOut.of(*found)


@results_router.post(
    "/reversal/{token}",
    response_model=ResultAck,
    responses=responses(UnknownReversalUrl, CallbackSourceRefused, CallbackTooLarge),
)
async def reversal_result(
    token: str, incoming: IncomingCallbackDep, session: SessionDep, settings: SettingsDep
) -> ResultAck:
    """Daraja's Reversal result: stored, then applied by a job."""
    await service.receive(
        session, token=token, kind="result", body=incoming.body, settings=settings
    )
    return ResultAck()


@results_router.post(
    "/reversal/{token}/timeout",
    response_model=ResultAck,
    responses=responses(UnknownReversalUrl, CallbackSourceRefused, CallbackTooLarge),
)
async def reversal_timeout(
    token: str, incoming: IncomingCallbackDep, session: SessionDep, settings: SettingsDep
) -> ResultAck:
    """Daraja's queue timeout for a Reversal: it will be sent again."""
    await service.receive(
        session, token=token, kind="timeout", body=incoming.body, settings=settings
    )
    return ResultAck()
