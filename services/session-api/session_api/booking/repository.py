from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import selectinload

from session_api.models import Booking, BookingStatus, PayableStatus, User, UserRole
from session_api.pagination import PageParams
from session_api.repository import Repository


class BookingRepository(Repository[Booking]):
    model = Booking

    @staticmethod
    def _with_people(statement: Select[Booking]) -> Select[Booking]:
        return statement.options(selectinload(Booking.client), selectinload(Booking.therapist))

    async def reload(self, booking: Booking) -> Booking:
        """The booking with its people loaded and its columns fresh (after an update)."""
        await self.session.flush()
        statement = self._with_people(select(Booking).where(Booking.id == booking.id))
        loaded = await self.session.scalar(statement.execution_options(populate_existing=True))
        assert loaded is not None
        return loaded

    async def get_visible(
        self, booking_id: uuid.UUID, *, user: User, for_update: bool = False
    ) -> Booking | None:
        statement = self._with_people(select(Booking).where(Booking.id == booking_id))
        if user.role is not UserRole.admin:
            statement = statement.where(
                (Booking.client_id == user.id) | (Booking.therapist_id == user.id)
            )
        if for_update:
            statement = statement.with_for_update(of=Booking)
        return await self.session.scalar(statement)

    async def overlapping(
        self,
        *,
        therapist_id: uuid.UUID,
        starts: datetime,
        duration: timedelta,
        excluding: uuid.UUID | None,
    ) -> Booking | None:
        """An approved or confirmed session of the therapist that overlaps the given slot."""
        ends = starts + duration
        existing_end = Booking.scheduled_at + func.make_interval(
            0, 0, 0, 0, 0, Booking.duration_minutes
        )
        statement = select(Booking).where(
            Booking.therapist_id == therapist_id,
            Booking.status.in_([BookingStatus.approved, BookingStatus.confirmed]),
            Booking.scheduled_at < ends,
            existing_end > starts,
        )
        if excluding is not None:
            statement = statement.where(Booking.id != excluding)
        return await self.session.scalar(statement.limit(1))

    async def lock_therapist_calendar(self, therapist_id: uuid.UUID) -> None:
        # Two approvals for one therapist checked concurrently could both see a free slot; a
        # transaction-scoped advisory lock per therapist makes the check-then-approve atomic.
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"therapist-calendar:{therapist_id}"},
        )

    async def visible(
        self,
        *,
        user: User,
        statuses: list[BookingStatus] | None,
        payment_statuses: list[PayableStatus] | None,
        scheduled_from: datetime | None,
        scheduled_to: datetime | None,
        therapist_id: uuid.UUID | None,
        page: PageParams,
    ) -> tuple[list[Booking], int]:
        statement = self._with_people(select(Booking))
        if user.role is UserRole.client:
            statement = statement.where(Booking.client_id == user.id)
        elif user.role is UserRole.therapist:
            statement = statement.where(Booking.therapist_id == user.id)
        if therapist_id is not None:
            statement = statement.where(Booking.therapist_id == therapist_id)
        if statuses:
            statement = statement.where(Booking.status.in_(statuses))
        if payment_statuses:
            statement = statement.where(Booking.payment_status.in_(payment_statuses))
        if scheduled_from is not None:
            statement = statement.where(Booking.scheduled_at >= scheduled_from)
        if scheduled_to is not None:
            statement = statement.where(Booking.scheduled_at < scheduled_to)
        return await self.paginate(statement.order_by(Booking.scheduled_at, Booking.id), page)

    async def confirmed_between(self, *, start: datetime, end: datetime) -> list[Booking]:
        """Confirmed sessions starting in `(start, end]`, locked; rows another worker holds are
        skipped, not waited for."""
        rows = await self.session.scalars(
            self._with_people(select(Booking))
            .where(
                Booking.status == BookingStatus.confirmed,
                Booking.scheduled_at > start,
                Booking.scheduled_at <= end,
            )
            .with_for_update(of=Booking, skip_locked=True)
        )
        return list(rows)
