"""`/v1/admin/payments/{attempt_id}/refund`: staff refund a paid payment through M-Pesa."""

from __future__ import annotations

from fastapi import APIRouter, Response

from session_api.auth.dependencies import CurrentStaff
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.dependencies import GatewayDep, RedisDep, SessionDep
from session_api.payment.exceptions import AttemptNotFound, PaymentsUnavailable
from session_api.payment.schemas import AttemptOut
from session_api.refund import service
from session_api.refund.exceptions import NotRefundable
from session_api.refund.schemas import RefundIn, RefundOut
from session_api.review.dependencies import StaffAttemptDep
from shared.errors import responses

router = APIRouter(prefix="/v1/admin/payments", tags=["admin"])


@router.post(
    "/{attempt_id}/refund",
    response_model=RefundOut,
    status_code=202,
    responses={
        200: {"model": RefundOut, "description": "The payment's refund was asked for before."},
        **responses(
            NotAuthenticated, RoleRequired, AttemptNotFound, NotRefundable, PaymentsUnavailable
        ),
    },
)
async def refund_payment(
    body: RefundIn,
    attempt: StaffAttemptDep,
    staff: CurrentStaff,
    response: Response,
    session: SessionDep,
    redis: RedisDep,
    gateway: GatewayDep,
) -> RefundOut:
    """Refund a paid payment to the payer's M-Pesa; M-Pesa's answer arrives later."""
    refunded, created = await service.refund(
        session, gateway=gateway, redis=redis, attempt=attempt, staff=staff, reason=body.reason
    )
    if not created:
        response.status_code = 200
    return RefundOut.of(refunded, AttemptOut.model_validate(attempt))
