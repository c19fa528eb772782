from __future__ import annotations

from payment_gateway.models.base import Base
from shared.audit.models import AuditCheckpointColumns


class AuditCheckpoint(AuditCheckpointColumns, Base):
    """A signed head of the gateway's audit chain; append-only."""

    __tablename__ = "audit_checkpoint"
