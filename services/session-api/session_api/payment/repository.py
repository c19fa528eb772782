from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from session_api.models import (
    AttemptStatus,
    Booking,
    OrderItem,
    PayableType,
    PaymentAttempt,
    User,
)
from session_api.pagination import PageParams
from session_api.repository import Repository


class PaymentAttemptRepository(Repository[PaymentAttempt]):
    model = PaymentAttempt

    async def booking_therapist_id(self, booking_id: uuid.UUID) -> uuid.UUID | None:
        """The therapist of the booking an attempt pays, who may see the attempt too."""
        return await self.session.scalar(
            select(Booking.therapist_id).where(Booking.id == booking_id)
        )

    async def booking_for_receipt(self, booking_id: uuid.UUID) -> tuple[Booking, str] | None:
        """The booking an attempt paid, with its therapist's name (what a receipt says)."""
        row = (
            await self.session.execute(
                select(Booking, User.full_name)
                .join(User, User.id == Booking.therapist_id)
                .where(Booking.id == booking_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def order_item_count(self, order_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.coalesce(func.sum(OrderItem.quantity), 0)).where(
                OrderItem.order_id == order_id
            )
        )
        return int(count or 0)

    async def get_by_gateway_payment_id(
        self, gateway_payment_id: str, *, for_update: bool = False
    ) -> PaymentAttempt | None:
        statement = select(PaymentAttempt).where(
            PaymentAttempt.gateway_payment_id == gateway_payment_id
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def for_payable(
        self, payable_type: PayableType, payable_id: uuid.UUID
    ) -> list[PaymentAttempt]:
        rows = await self.session.scalars(
            select(PaymentAttempt)
            .where(
                PaymentAttempt.payable_type == payable_type,
                PaymentAttempt.payable_id == payable_id,
            )
            .order_by(PaymentAttempt.attempt_number)
        )
        return list(rows)

    async def history(
        self,
        *,
        user_id: uuid.UUID | None,
        statuses: list[AttemptStatus] | None,
        payable_type: PayableType | None,
        created_from: datetime | None,
        created_to: datetime | None,
        page: PageParams,
    ) -> tuple[list[PaymentAttempt], int]:
        statement = select(PaymentAttempt)
        if user_id is not None:
            statement = statement.where(PaymentAttempt.user_id == user_id)
        if statuses:
            statement = statement.where(PaymentAttempt.status.in_(statuses))
        if payable_type is not None:
            statement = statement.where(PaymentAttempt.payable_type == payable_type)
        if created_from is not None:
            statement = statement.where(PaymentAttempt.created_at >= created_from)
        if created_to is not None:
            statement = statement.where(PaymentAttempt.created_at < created_to)
        return await self.paginate(
            statement.order_by(PaymentAttempt.created_at.desc(), PaymentAttempt.id), page
        )

    async def needing_refresh(
        self, *, processing_before: datetime, receiptless_before: datetime, limit: int
    ) -> list[PaymentAttempt]:
        """Attempts whose events look overdue: still processing (and not held for review), or
        paid without a receipt."""
        rows = await self.session.scalars(
            select(PaymentAttempt)
            .where(
                or_(
                    and_(
                        PaymentAttempt.status == AttemptStatus.processing,
                        PaymentAttempt.updated_at < processing_before,
                        # Held for review: only a staff decision moves it, and its event
                        # comes; read back, it would fill every batch and stall the others.
                        PaymentAttempt.review_reason.is_(None),
                    ),
                    and_(
                        PaymentAttempt.status == AttemptStatus.paid,
                        PaymentAttempt.receipt_number.is_(None),
                        PaymentAttempt.updated_at < receiptless_before,
                    ),
                )
            )
            .order_by(PaymentAttempt.updated_at)
            .limit(limit)
        )
        return list(rows)
