"""The gateway's audit queries: `shared.audit.repository` bound to its models."""

from __future__ import annotations

from payment_gateway.models import AuditCheckpoint, AuditEntry
from shared.audit.repository import AuditFilters, AuditRepository


class AuditEntryRepository(AuditRepository[AuditEntry]):
    model = AuditEntry
    checkpoint_model = AuditCheckpoint

    async def page(
        self, filters: AuditFilters, *, before_id: int | None, limit: int
    ) -> list[AuditEntry]:
        statement = self.search(filters)
        if before_id is not None:
            statement = statement.where(AuditEntry.id < before_id)
        return list(await self.get_all(statement.limit(limit)))
