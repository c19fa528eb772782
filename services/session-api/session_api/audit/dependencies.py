"""The audit list's filters, checked once, and the caller's address for audited requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from session_api.audit.exceptions import InvalidAuditFilter
from session_api.dependencies import SettingsDep
from shared.audit.repository import AuditFilters
from shared.ratelimit import client_address
from shared.schemas import Text, Timestamp


def audit_filters(
    actor: Annotated[Text | None, Query(max_length=128)] = None,
    action: Annotated[
        Text | None, Query(max_length=64, description="Exact, or a prefix as `payment.*`.")
    ] = None,
    subject: Annotated[Text | None, Query(max_length=128)] = None,
    at_from: Annotated[
        Timestamp | None, Query(alias="from", description="Inclusive, with a UTC offset.")
    ] = None,
    at_to: Annotated[
        Timestamp | None, Query(alias="to", description="Exclusive, with a UTC offset.")
    ] = None,
) -> AuditFilters:
    for name, moment in (("from", at_from), ("to", at_to)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidAuditFilter(f"{name} must carry a UTC offset, e.g. 2026-12-01T07:00:00Z")
    if at_from is not None and at_to is not None and at_to <= at_from:
        raise InvalidAuditFilter("to must be later than from")
    return AuditFilters(actor=actor, action=action, subject=subject, at_from=at_from, at_to=at_to)


AuditFiltersDep = Annotated[AuditFilters, Depends(audit_filters)]


def client_ip(request: Request, settings: SettingsDep) -> str:
    """The caller's address, read as the rate limits read it (`TRUSTED_PROXY_HOPS`)."""
    return client_address(request, trusted_hops=settings.TRUSTED_PROXY_HOPS)


ClientIpDep = Annotated[str, Depends(client_ip)]
