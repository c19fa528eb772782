from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from session_api.auth.dependencies import CurrentUser
from session_api.booking import service as booking_service
from session_api.dependencies import SessionDep
from session_api.models import Booking


async def get_booking(booking_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Booking:
    return await booking_service.get_booking(session, booking_id=booking_id, user=user)


async def get_booking_for_update(
    booking_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Booking:
    # Locked for the rest of the request: state changes and payments on one booking queue up.
    return await booking_service.get_booking(
        session, booking_id=booking_id, user=user, for_update=True
    )


BookingDep = Annotated[Booking, Depends(get_booking)]
LockedBookingDep = Annotated[Booking, Depends(get_booking_for_update)]
