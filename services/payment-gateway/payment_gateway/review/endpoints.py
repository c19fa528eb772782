"""`/v1/payments/{payment_id}/review`: staff decide about a payment held for review."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from payment_gateway.auth.exceptions import InvalidApiKey
from payment_gateway.dependencies import SettingsDep
from payment_gateway.payment.exceptions import PaymentNotFound
from payment_gateway.payment.schemas import PaymentOut
from payment_gateway.review import service
from payment_gateway.review.dependencies import ActingUserDep
from payment_gateway.review.exceptions import MissingActingUser, NotHeldForReview, ReceiptTaken
from payment_gateway.review.schemas import ReviewDecision
from shared.db import SessionDep
from shared.errors import responses

router = APIRouter(prefix="/v1/payments", tags=["review"])


@router.post(
    "/{payment_id}/review",
    response_model=PaymentOut,
    status_code=200,
    responses=responses(
        InvalidApiKey, MissingActingUser, PaymentNotFound, NotHeldForReview, ReceiptTaken
    ),
)
async def review_payment(
    payment_id: uuid.UUID,
    body: ReviewDecision,
    actor: ActingUserDep,
    session: SessionDep,
    settings: SettingsDep,
) -> PaymentOut:
    """Accept (complete) or reject (fail) a payment held for review, as the acting person."""
    payment = await service.decide(
        session,
        payment_id=payment_id,
        decision=body.decision,
        note=body.note,
        actor=actor,
        settings=settings,
    )
    return PaymentOut.of(payment)
