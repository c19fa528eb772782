from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from session_api.auth.dependencies import CurrentUser, StreamUser
from session_api.dependencies import SessionDep
from session_api.models import PayableType, PaymentAttempt, User, UserRole
from session_api.payment import service as payment_service
from session_api.payment.exceptions import AttemptNotFound


async def _visible_attempt(
    session: SessionDep, attempt_id: uuid.UUID, user: User
) -> PaymentAttempt:
    attempt = await payment_service.get_attempt(session, attempt_id=attempt_id)
    therapist_id = None
    if user.role is UserRole.therapist and attempt.payable_type is PayableType.booking:
        therapist_id = await payment_service.booking_therapist_id(
            session, booking_id=attempt.payable_id
        )
    if not payment_service.visible_to(user, attempt, booking_therapist_id=therapist_id):
        raise AttemptNotFound(f"no payment attempt {attempt_id}")
    await payment_service.note_access(session, user=user, attempt=attempt)
    return attempt


async def get_attempt(
    attempt_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> PaymentAttempt:
    return await _visible_attempt(session, attempt_id, user)


async def get_streamed_attempt(
    attempt_id: uuid.UUID, user: StreamUser, session: SessionDep
) -> PaymentAttempt:
    return await _visible_attempt(session, attempt_id, user)


AttemptDep = Annotated[PaymentAttempt, Depends(get_attempt)]
StreamedAttemptDep = Annotated[PaymentAttempt, Depends(get_streamed_attempt)]
