from __future__ import annotations

import uuid

from sqlalchemy import select

from session_api.models import TherapistProfile, User, UserRole
from session_api.pagination import PageParams
from session_api.repository import Repository


class TherapistRepository(Repository[TherapistProfile]):
    model = TherapistProfile

    async def get_with_user(self, user_id: uuid.UUID) -> tuple[User, TherapistProfile] | None:
        row = (
            await self.session.execute(
                select(User, TherapistProfile)
                .join(TherapistProfile, TherapistProfile.user_id == User.id)
                .where(User.id == user_id, User.role == UserRole.therapist)
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    async def listing(
        self, *, accepting_only: bool, max_rate: int | None, specialty: str | None, page: PageParams
    ) -> tuple[list[tuple[User, TherapistProfile]], int]:
        statement = (
            select(User, TherapistProfile)
            .join(TherapistProfile, TherapistProfile.user_id == User.id)
            .where(User.role == UserRole.therapist, User.is_active.is_(True))
        )
        if accepting_only:
            statement = statement.where(TherapistProfile.is_accepting_clients.is_(True))
        if max_rate is not None:
            statement = statement.where(TherapistProfile.session_rate <= max_rate)
        if specialty and specialty.strip():
            # Specialties are stored trimmed and lower-cased (schemas.tidy_specialties).
            wanted = specialty.strip().lower()
            statement = statement.where(TherapistProfile.specialties.contains([wanted]))
        return await self.paginate(statement.order_by(User.full_name, User.id), page)
