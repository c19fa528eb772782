"""`/v1/admin/audit`: the audit trail, listed and verified (admins only)."""

from __future__ import annotations

from fastapi import APIRouter

from session_api.audit import service
from session_api.audit.dependencies import AuditFiltersDep
from session_api.audit.exceptions import InvalidAuditFilter
from session_api.audit.schemas import AdminVerifyReport, AuditEntryOut
from session_api.auth.dependencies import CurrentAdmin
from session_api.auth.exceptions import NotAuthenticated, RoleRequired
from session_api.dependencies import GatewayDep, SessionDep, SettingsDep
from session_api.pagination import Page, PageDep, page_of
from shared.errors import responses

router = APIRouter(prefix="/v1/admin/audit", tags=["audit"])


@router.get(
    "",
    response_model=Page[AuditEntryOut],
    responses=responses(NotAuthenticated, RoleRequired, InvalidAuditFilter),
)
async def list_entries(
    admin: CurrentAdmin, session: SessionDep, page: PageDep, filters: AuditFiltersDep
) -> Page[AuditEntryOut]:
    """Audit entries, newest first, filtered by actor, action (`payment.*` for a prefix),
    subject and time (`from` inclusive, `to` exclusive)."""
    result = await service.search(session, filters=filters, page=page, viewer=admin)
    return page_of(AuditEntryOut, result, page)


@router.get(
    "/verify",
    response_model=AdminVerifyReport,
    responses=responses(NotAuthenticated, RoleRequired),
)
async def verify(
    admin: CurrentAdmin, session: SessionDep, settings: SettingsDep, gateway: GatewayDep
) -> AdminVerifyReport:
    """Recompute both services' audit chains and check every signed checkpoint; names the first
    broken row of each."""
    return await service.verify_both(session, settings=settings, gateway=gateway, admin=admin)
