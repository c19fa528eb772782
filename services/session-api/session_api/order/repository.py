from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from session_api.models import Order, OrderStatus, PayableStatus
from session_api.pagination import PageParams
from session_api.repository import Repository


class OrderRepository(Repository[Order]):
    model = Order

    async def get_owned(
        self, order_id: uuid.UUID, *, user_id: uuid.UUID | None, for_update: bool = False
    ) -> Order | None:
        statement = select(Order).where(Order.id == order_id).options(selectinload(Order.items))
        if user_id is not None:
            statement = statement.where(Order.user_id == user_id)
        if for_update:
            statement = statement.with_for_update(of=Order)
        return await self.session.scalar(statement)

    async def owned(
        self,
        *,
        user_id: uuid.UUID | None,
        statuses: list[OrderStatus] | None,
        payment_statuses: list[PayableStatus] | None,
        created_from: datetime | None,
        created_to: datetime | None,
        page: PageParams,
    ) -> tuple[list[Order], int]:
        statement = select(Order).options(selectinload(Order.items))
        if user_id is not None:
            statement = statement.where(Order.user_id == user_id)
        if statuses:
            statement = statement.where(Order.status.in_(statuses))
        if payment_statuses:
            statement = statement.where(Order.payment_status.in_(payment_statuses))
        if created_from is not None:
            statement = statement.where(Order.created_at >= created_from)
        if created_to is not None:
            statement = statement.where(Order.created_at < created_to)
        return await self.paginate(statement.order_by(Order.created_at.desc(), Order.id), page)
