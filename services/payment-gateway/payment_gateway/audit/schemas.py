"""The gateway's audit API shapes (shared with session-api's, in `shared.audit.schemas`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.audit.schemas import AuditEntryOut, VerifyReport

__all__ = ["AuditEntryOut", "AuditPage", "VerifyReport"]


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null at the end."
    )
