from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from session_api.audit import service as audit
from session_api.auth.dependencies import CurrentAdmin, CurrentTherapist
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.dependencies import SessionDep, SettingsDep
from session_api.models import TherapistProfile, User
from session_api.pagination import Page, PageDep, page_of
from session_api.therapist import service as therapist_service
from session_api.therapist.exceptions import InvalidSessionRate, TherapistNotFound
from session_api.therapist.schemas import (
    TherapistAccount,
    TherapistCreate,
    TherapistOut,
    TherapistUpdate,
)
from session_api.user.exceptions import EmailTaken
from shared.errors import responses
from shared.schemas import INT32_MAX, Text

router = APIRouter(tags=["therapists"])


@router.get("/v1/therapists", response_model=Page[TherapistOut])
async def list_therapists(
    session: SessionDep,
    page: PageDep,
    accepting: Annotated[bool, Query(description="Only those taking new clients.")] = True,
    max_rate: Annotated[
        int | None, Query(ge=1, le=INT32_MAX, description="Highest session rate, KES.")
    ] = None,
    specialty: Annotated[
        Text | None, Query(max_length=60, description="Only those who list this specialty.")
    ] = None,
) -> Page[TherapistOut]:
    """Therapists a client can book, by name."""
    result = await therapist_service.listing(
        session, accepting_only=accepting, max_rate=max_rate, specialty=specialty, page=page
    )
    return page_of(TherapistOut, result, page)


@router.patch(
    "/v1/therapists/me",
    response_model=TherapistOut,
    responses=responses(NotAuthenticated, RoleRequired, InvalidSessionRate),
)
async def update_my_profile(
    body: TherapistUpdate, therapist: CurrentTherapist, session: SessionDep, settings: SettingsDep
) -> tuple[User, TherapistProfile]:
    """Change your rate, bio, specialties or whether you take new clients."""
    return await therapist_service.update_profile(
        session, settings=settings, therapist=therapist, request=body
    )


@router.get(
    "/v1/therapists/{therapist_id}",
    response_model=TherapistOut,
    responses=responses(TherapistNotFound),
)
async def get_therapist(
    therapist_id: uuid.UUID, session: SessionDep
) -> tuple[User, TherapistProfile]:
    """One therapist's profile and session rate."""
    return await therapist_service.get_therapist(session, therapist_id=therapist_id)


@router.post(
    "/v1/admin/therapists",
    response_model=TherapistAccount,
    status_code=status.HTTP_201_CREATED,
    responses=responses(NotAuthenticated, RoleRequired, EmailTaken, InvalidSessionRate),
)
async def create_therapist(
    body: TherapistCreate, admin: CurrentAdmin, session: SessionDep, settings: SettingsDep
) -> tuple[User, TherapistProfile]:
    """Create a therapist account with a session rate (admins only)."""
    return await therapist_service.create_therapist(
        session, settings=settings, request=body, actor=audit.actor_of(admin)
    )
