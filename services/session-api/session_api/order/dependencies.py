from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from session_api.auth.dependencies import CurrentAdmin, CurrentUser
from session_api.dependencies import SessionDep
from session_api.models import Order
from session_api.order import service as order_service


async def get_order(order_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Order:
    return await order_service.get_order(session, order_id=order_id, user=user)


async def get_order_for_update(
    order_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> Order:
    return await order_service.get_order(session, order_id=order_id, user=user, for_update=True)


async def get_order_for_admin(
    order_id: uuid.UUID, admin: CurrentAdmin, session: SessionDep
) -> Order:
    """Locked, for an admin: the role is checked before the order is looked up, so other roles
    get 403 whether or not the order exists."""
    return await order_service.get_order(session, order_id=order_id, user=admin, for_update=True)


OrderDep = Annotated[Order, Depends(get_order)]
LockedOrderDep = Annotated[Order, Depends(get_order_for_update)]
AdminLockedOrderDep = Annotated[Order, Depends(get_order_for_admin)]
