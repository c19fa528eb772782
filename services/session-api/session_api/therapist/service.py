from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.auth import service as auth_service
from session_api.config import Settings
from session_api.models import TherapistProfile, User, UserRole
from session_api.pagination import PageParams
from session_api.therapist.exceptions import InvalidSessionRate, TherapistNotFound
from session_api.therapist.repository import TherapistRepository
from session_api.therapist.schemas import TherapistCreate, TherapistUpdate
from session_api.user import service as user_service


async def create_therapist(
    session: AsyncSession, *, settings: Settings, request: TherapistCreate, actor: str = "system"
) -> tuple[User, TherapistProfile]:
    """A therapist account and profile; `actor` (the admin, or the seed) is audited."""
    _check_rate(settings, request.session_rate)
    user = await user_service.create_user(
        session,
        email=request.email,
        password_hash=await auth_service.hash_password(settings, request.password),
        full_name=request.full_name.strip(),
        phone=request.phone,
        role=UserRole.therapist,
    )
    profile = await TherapistRepository.from_session(session).create(
        TherapistProfile(
            user_id=user.id,
            session_rate=request.session_rate,
            bio=request.bio,
            specialties=request.specialties,
            is_accepting_clients=True,
        ),
        flush=True,
    )
    await audit.record(
        session,
        action="therapist.created",
        actor=actor,
        subject=f"user:{user.id}",
        details={"session_rate": request.session_rate},
    )
    return user, profile


def _check_rate(settings: Settings, rate: int) -> None:
    if not settings.PAYMENT_MIN_KES <= rate <= settings.PAYMENT_MAX_KES:
        raise InvalidSessionRate(
            f"session_rate: between {settings.PAYMENT_MIN_KES} and {settings.PAYMENT_MAX_KES} KES, "
            "the range one M-Pesa payment can carry"
        )


async def update_profile(
    session: AsyncSession, *, settings: Settings, therapist: User, request: TherapistUpdate
) -> tuple[User, TherapistProfile]:
    """Change a therapist's own profile. Bookings already made keep the price they were made at."""
    user, profile = await get_therapist(session, therapist_id=therapist.id)
    changes = request.model_dump(exclude_unset=True, exclude_none=True)
    if "session_rate" in changes:
        _check_rate(settings, changes["session_rate"])
    for name, value in changes.items():
        setattr(profile, name, value)
    await session.flush()
    return user, profile


async def get_therapist(
    session: AsyncSession, *, therapist_id: uuid.UUID
) -> tuple[User, TherapistProfile]:
    found = await TherapistRepository.from_session(session).get_with_user(therapist_id)
    if found is None or not found[0].is_active:
        raise TherapistNotFound(f"no therapist {therapist_id}")
    return found


async def listing(
    session: AsyncSession,
    *,
    accepting_only: bool,
    max_rate: int | None,
    specialty: str | None,
    page: PageParams,
) -> tuple[list[tuple[User, TherapistProfile]], int]:
    return await TherapistRepository.from_session(session).listing(
        accepting_only=accepting_only, max_rate=max_rate, specialty=specialty, page=page
    )
