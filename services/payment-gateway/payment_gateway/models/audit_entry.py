from __future__ import annotations

from payment_gateway.models.base import Base
from shared.audit.models import AuditEntryColumns


class AuditEntry(AuditEntryColumns, Base):
    """One audited event of the gateway; append-only (a trigger refuses UPDATE and DELETE) and
    hash-chained (`shared.audit`)."""

    __tablename__ = "audit_entry"
