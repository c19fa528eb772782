"""`/v1/audit`: the gateway's audit trail, listed and verified (service key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from payment_gateway.audit import service
from payment_gateway.audit.dependencies import AuditFiltersDep
from payment_gateway.audit.exceptions import InvalidAuditFilter
from payment_gateway.audit.schemas import AuditEntryOut, AuditPage, VerifyReport
from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.auth.exceptions import InvalidApiKey
from payment_gateway.dependencies import SettingsDep
from shared.db import SessionDep
from shared.errors import responses

router = APIRouter(prefix="/v1/audit", tags=["audit"])

MAX_ID = 2**63 - 1  # a bigint


@router.get("", response_model=AuditPage, responses=responses(InvalidApiKey, InvalidAuditFilter))
async def list_entries(
    session: SessionDep,
    _: ServiceDep,
    filters: AuditFiltersDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="`next_before` of the previous page.")
    ] = None,
) -> AuditPage:
    """Audit entries, newest first, filtered by actor, action (`payment.*` for a prefix),
    subject and time."""
    items = await service.search(session, filters=filters, before_id=before, limit=limit + 1)
    page = items[:limit]
    return AuditPage(
        items=[AuditEntryOut.model_validate(e) for e in page],
        next_before=page[-1].id if len(items) > limit else None,
    )


@router.get("/verify", response_model=VerifyReport, responses=responses(InvalidApiKey))
async def verify(
    session: SessionDep,
    _: ServiceDep,
    settings: SettingsDep,
    from_seq: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Start at this seq.")
    ] = None,
) -> VerifyReport:
    """Recompute the audit chain and check every signed checkpoint; names the first broken row."""
    return await service.verify(session, settings=settings, from_seq=from_seq)
