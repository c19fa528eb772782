"""API shapes of reconciliation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

from fastapi import UploadFile
from pydantic import BaseModel, ConfigDict, Field

from payment_gateway.models import (
    ExceptionStatus,
    ReconciliationException,
    ReconciliationItem,
    ReconciliationRun,
    RecordSource,
    ResolveAction,
    RunStatus,
    Verdict,
)
from shared.db import utcnow
from shared.schemas import AwareTimestamp, MultilineText, StrictModel, Text


class RunCreate(StrictModel):
    """A window `[from, to)` and the sources to compare our payments with."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: AwareTimestamp = Field(alias="from", description="Inclusive, ISO 8601 with an offset.")
    to: AwareTimestamp = Field(description="Exclusive, ISO 8601 with an offset.")
    sources: list[RecordSource] = Field(
        default_factory=list,
        description="Any of stk_query, transaction_status, pull, statement, c2b; "
        "empty: stk_query, pull and statement.",
    )


class RunOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    status: RunStatus
    from_: datetime = Field(serialization_alias="from", alias="from")
    to: datetime
    shortcode: str
    sources: list[str]
    summary: dict[str, int] = Field(
        description="Verdict → count, once the run completed; `pending_verification`: completed "
        "payments Transaction Status never answered about (no verdict; the next run with "
        "Transaction Status asks again)."
    )
    source_results: dict[str, Any] = Field(description="What each asked source answered.")
    error: str | None
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: ReconciliationRun) -> Self:
        return cls.model_validate(
            {
                "id": run.id,
                "status": RunStatus(run.status),
                "from": run.window_start,
                "to": run.window_end,
                "shortcode": run.shortcode,
                "sources": run.sources,
                "summary": run.summary,
                "source_results": run.source_results,
                "error": run.error,
                "requested_by": run.requested_by,
                "created_at": run.created_at,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
            }
        )


class RunPage(BaseModel):
    items: list[RunOut]
    next_cursor: str | None


class ItemOut(BaseModel):
    id: int
    verdict: Verdict
    payment_id: uuid.UUID | None
    related_payment_id: uuid.UUID | None
    receipt: str | None
    source: str | None
    amount: int | None = Field(description="What we asked, whole KES.")
    mpesa_amount: int | None = Field(description="What M-Pesa shows, whole KES.")
    detail: dict[str, Any]

    @classmethod
    def of(cls, item: ReconciliationItem) -> Self:
        return cls(
            id=item.id,
            verdict=Verdict(item.verdict),
            payment_id=item.payment_id,
            related_payment_id=item.related_payment_id,
            receipt=item.receipt,
            source=item.source,
            amount=item.amount,
            mpesa_amount=item.mpesa_amount,
            detail=item.detail,
        )


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None


class ExceptionOut(BaseModel):
    id: uuid.UUID
    run_id: uuid.UUID
    verdict: Verdict
    payment_id: uuid.UUID | None
    receipt: str | None
    status: ExceptionStatus
    age_s: float = Field(description="Seconds since it was opened.")
    action: ResolveAction | None
    note: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, exception: ReconciliationException) -> Self:
        return cls(
            id=exception.id,
            run_id=exception.run_id,
            verdict=Verdict(exception.verdict),
            payment_id=exception.payment_id,
            receipt=exception.receipt,
            status=ExceptionStatus(exception.status),
            age_s=round(
                ((exception.resolved_at or utcnow()) - exception.created_at).total_seconds(), 3
            ),
            action=ResolveAction(exception.action) if exception.action else None,
            note=exception.note,
            resolved_by=exception.resolved_by,
            resolved_at=exception.resolved_at,
            created_at=exception.created_at,
        )


class ExceptionPage(BaseModel):
    items: list[ExceptionOut]
    next_cursor: str | None


class Resolve(StrictModel):
    """What staff decided, and who."""

    action: ResolveAction
    note: MultilineText = Field(min_length=1, max_length=2000)
    actor: Text = Field(min_length=1, max_length=64, description="The staff member deciding.")
    payment_id: uuid.UUID | None = Field(
        default=None, description="For attach_to_payment: the payment the money belongs to."
    )


class StatementUpload(BaseModel):
    """The multipart form of a statement upload: one file, nothing else."""

    model_config = ConfigDict(extra="forbid")

    file: UploadFile = Field(description="The org-portal statement export (CSV).")


class RejectedLine(BaseModel):
    line: int
    reason: str


class StatementOut(BaseModel):
    id: uuid.UUID
    rows: int
    new: int
    duplicates: int
    rejected: list[RejectedLine]


class ResultAck(BaseModel):
    """What Daraja is told once a Result is stored."""

    model_config = ConfigDict(populate_by_name=True)

    result_code: int = Field(default=0, serialization_alias="ResultCode", alias="ResultCode")
    result_desc: str = Field(
        default="Accepted", serialization_alias="ResultDesc", alias="ResultDesc"
    )


class C2BAck(BaseModel):
    """What M-Pesa is told about a C2B confirmation or validation."""

    model_config = ConfigDict(populate_by_name=True)

    result_code: str = Field(default="0", serialization_alias="ResultCode", alias="ResultCode")
    result_desc: str = Field(serialization_alias="ResultDesc", alias="ResultDesc")


class C2BRegistered(BaseModel):
    daraja: dict[str, Any] = Field(description="Daraja's answer to the registration.")
