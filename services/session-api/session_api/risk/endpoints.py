"""`GET /v1/admin/risk-flags`: suspicious activity, for staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from session_api.auth.dependencies import CurrentStaff
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.dependencies import SessionDep
from session_api.models import RiskKind
from session_api.pagination import Page, PageDep, page_of
from session_api.risk import service as risk_service
from session_api.risk.schemas import RiskFlagOut
from shared.errors import responses

router = APIRouter(tags=["risk"])


@router.get(
    "/v1/admin/risk-flags",
    response_model=Page[RiskFlagOut],
    responses=responses(NotAuthenticated, RoleRequired),
)
async def list_risk_flags(
    staff: CurrentStaff,
    session: SessionDep,
    page: PageDep,
    kind: Annotated[RiskKind | None, Query()] = None,
) -> Page[RiskFlagOut]:
    """Suspicious activity (staff and admins), most recently seen first; nothing was blocked."""
    return page_of(
        RiskFlagOut, await risk_service.flags(session, kind=kind, page=page, viewer=staff), page
    )
