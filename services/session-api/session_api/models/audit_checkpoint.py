from __future__ import annotations

from session_api.models.base import Base
from shared.audit.models import AuditCheckpointColumns


class AuditCheckpoint(AuditCheckpointColumns, Base):
    """A signed head of session-api's audit chain; append-only."""

    __tablename__ = "audit_checkpoint"
