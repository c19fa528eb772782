"""session-api's audit queries: `shared.audit.repository` bound to its models, with pages."""

from __future__ import annotations

from session_api.models import AuditCheckpoint, AuditEntry
from session_api.repository import Repository
from shared.audit.repository import AuditRepository


class AuditEntryRepository(AuditRepository[AuditEntry], Repository[AuditEntry]):
    model = AuditEntry
    checkpoint_model = AuditCheckpoint
