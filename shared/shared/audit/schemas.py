"""The API shapes of the audit trail, the same in both services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryOut(BaseModel):
    """One audited event and its place in the chain (`seq` and `hash` are null until chained,
    within seconds)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    action: str = Field(description="What happened, e.g. `auth.login_failed`.")
    actor: str = Field(description="Who did it: `user:<id>`, a service key's name, a worker.")
    subject: str | None = Field(description="What it was done to: `payment:<id>`, `order:<id>`.")
    ip: str | None
    details: dict[str, Any]
    seq: int | None
    prev_hash: str | None
    hash: str | None


class BrokenRowOut(BaseModel):
    seq: int
    id: int
    reason: str


class CheckpointOut(BaseModel):
    seq: int
    head_hash: str
    signed_at: datetime
    key_id: str


class VerifyReport(BaseModel):
    """The chain recomputed and every signed checkpoint checked. `ok` is true only when no row
    is broken and no checkpoint disagrees."""

    service: str
    ok: bool
    rows_checked: int
    first_seq: int | None
    last_seq: int | None
    head_hash: str | None
    unchained: int = Field(description="Rows recorded but not yet linked (the chainer is due).")
    first_broken: BrokenRowOut | None = Field(description="The first row that fails, named.")
    broken_rows: int
    checkpoints_checked: int
    last_checkpoint: CheckpointOut | None
    problems: list[str] = Field(description="Everything found wrong, first broken row first.")
