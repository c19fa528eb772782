"""The payment attempt a staff action is about: any attempt, loaded and 404-checked, for staff
and admins only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from session_api.audit import service as audit
from session_api.auth.dependencies import CurrentStaff
from session_api.dependencies import SessionDep
from session_api.models import PaymentAttempt, User
from session_api.payment import service as payment_service


async def staff_attempt(
    attempt_id: uuid.UUID, staff: CurrentStaff, session: SessionDep
) -> PaymentAttempt:
    return await payment_service.get_attempt(session, attempt_id=attempt_id)


def acting_user(user: User) -> str:
    """How the gateway records the person acting: `user:<id>`, never an e-mail address (its
    timeline is permanent; the console maps the id back to the person's name)."""
    return audit.actor_of(user)


StaffAttemptDep = Annotated[PaymentAttempt, Depends(staff_attempt)]
