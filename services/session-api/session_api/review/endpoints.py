"""`/v1/admin/payments/{attempt_id}/review`: staff accept or reject a payment held for review."""

from __future__ import annotations

from fastapi import APIRouter

from session_api.auth.dependencies import CurrentStaff
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.dependencies import GatewayDep, RedisDep, SessionDep
from session_api.payment.exceptions import AttemptNotFound, PaymentsUnavailable
from session_api.payment.schemas import AttemptOut
from session_api.review import service
from session_api.review.dependencies import StaffAttemptDep
from session_api.review.exceptions import ReviewConflict
from session_api.review.schemas import ReviewIn, ReviewOut
from shared.errors import responses

router = APIRouter(prefix="/v1/admin/payments", tags=["admin"])


@router.post(
    "/{attempt_id}/review",
    response_model=ReviewOut,
    status_code=200,
    responses=responses(
        NotAuthenticated, RoleRequired, AttemptNotFound, ReviewConflict, PaymentsUnavailable
    ),
)
async def review_payment(
    body: ReviewIn,
    attempt: StaffAttemptDep,
    staff: CurrentStaff,
    session: SessionDep,
    redis: RedisDep,
    gateway: GatewayDep,
) -> ReviewOut:
    """Accept (the payable is paid) or reject (it can be paid again) a payment held for review."""
    payment = await service.decide(
        session,
        gateway=gateway,
        redis=redis,
        attempt=attempt,
        staff=staff,
        decision=body.decision,
        note=body.note,
    )
    return ReviewOut(
        decision=body.decision,
        gateway_status=payment.status.value,
        attempt=AttemptOut.model_validate(attempt),
    )
