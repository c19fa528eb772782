"""session-api's audit API shapes (the entry and report are shared with the gateway's)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.audit.schemas import AuditEntryOut, VerifyReport

__all__ = ["AdminVerifyReport", "AuditEntryOut", "VerifyReport"]


class AdminVerifyReport(BaseModel):
    """Both services' trails verified: session-api's here, the gateway's by the gateway."""

    ok: bool = Field(description="True only when both chains and all their checkpoints verify.")
    session_api: VerifyReport
    gateway: VerifyReport | None = Field(description="Null when the gateway could not be asked.")
    gateway_error: str | None
