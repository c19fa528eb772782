"""`/v1/reconciliation`: runs, their verdicts and report, statement uploads, and the exceptions
staff resolve."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.auth.exceptions import InvalidApiKey
from payment_gateway.callback.dependencies import IncomingCallbackDep
from payment_gateway.callback.exceptions import CallbackSourceRefused, CallbackTooLarge
from payment_gateway.dependencies import DarajaDep, SettingsDep
from payment_gateway.models import ExceptionStatus, Verdict
from payment_gateway.reconciliation import c2b, service, statement, status
from payment_gateway.reconciliation.dependencies import RunDep
from payment_gateway.reconciliation.exceptions import (
    C2BNotConfigured,
    DarajaUnreachable,
    ExceptionAlreadyResolved,
    ExceptionNotFound,
    InvalidCursor,
    InvalidResolution,
    InvalidStatement,
    InvalidWindow,
    RunNotFound,
    StatementTooLarge,
    UnknownResultUrl,
    UnknownSource,
)
from payment_gateway.reconciliation.schemas import (
    C2BAck,
    C2BRegistered,
    ExceptionOut,
    ExceptionPage,
    ItemOut,
    ItemPage,
    RejectedLine,
    Resolve,
    ResultAck,
    RunCreate,
    RunOut,
    RunPage,
    StatementOut,
    StatementUpload,
)
from shared.db import SessionDep
from shared.errors import responses
from shared.schemas import Text

router = APIRouter(prefix="/v1/reconciliation", tags=["reconciliation"])
results_router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])

Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[
    Text | None, Query(max_length=300, description="`next_cursor` of the previous page.")
]
CHUNK_BYTES = 1 << 20


@router.post(
    "/runs",
    response_model=RunOut,
    status_code=202,
    responses=responses(InvalidApiKey, InvalidWindow, UnknownSource),
)
async def request_run(
    body: RunCreate, principal: ServiceDep, session: SessionDep, settings: SettingsDep
) -> RunOut:
    """Ask for a run over `[from, to)`; the same window and sources answer with the same run."""
    run = await service.request_run(
        session,
        start=body.from_,
        end=body.to,
        sources=[s.value for s in body.sources],
        requested_by=principal.name,
        settings=settings,
    )
    return RunOut.of(run)


@router.get("/runs", response_model=RunPage, responses=responses(InvalidApiKey, InvalidCursor))
async def list_runs(
    session: SessionDep, _: ServiceDep, limit: Limit = 50, cursor: Cursor = None
) -> RunPage:
    """Runs, newest first."""
    runs, next_cursor = await service.run_page(session, cursor=cursor, limit=limit)
    return RunPage(items=[RunOut.of(r) for r in runs], next_cursor=next_cursor)


@router.get(
    "/runs/{run_id}", response_model=RunOut, responses=responses(InvalidApiKey, RunNotFound)
)
async def get_run(run: RunDep) -> RunOut:
    """One run: its status and, once completed, the count of each verdict."""
    return RunOut.of(run)


@router.get(
    "/runs/{run_id}/items",
    response_model=ItemPage,
    responses=responses(InvalidApiKey, RunNotFound, InvalidCursor),
)
async def run_items(
    run: RunDep,
    session: SessionDep,
    verdict: Verdict | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ItemPage:
    """The run's verdicts, optionally of one kind."""
    items, next_cursor = await service.item_page(
        session, run_id=run.id, verdict=verdict, cursor=cursor, limit=limit
    )
    return ItemPage(items=[ItemOut.of(i) for i in items], next_cursor=next_cursor)


@router.get(
    "/runs/{run_id}/report.csv",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "One line per verdict."},
        **responses(InvalidApiKey, RunNotFound),
    },
)
async def run_report(run: RunDep, request: Request) -> StreamingResponse:
    """The run's verdicts as CSV, streamed."""
    lines = service.report_lines(request.app.state.sessionmaker, run_id=run.id)
    return StreamingResponse(
        lines,
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="reconciliation-{run.id}.csv"'},
    )


@router.post(
    "/statements",
    response_model=StatementOut,
    status_code=201,
    responses=responses(InvalidApiKey, InvalidStatement, StatementTooLarge),
)
async def upload_statement(
    upload: Annotated[StatementUpload, Form()],
    principal: ServiceDep,
    session: SessionDep,
    settings: SettingsDep,
) -> StatementOut:
    """Import an org-portal statement: one record per receipt; a re-upload adds nothing."""
    result = await statement.import_statement(
        session,
        chunks=_chunks(upload.file),
        filename=upload.file.filename,
        imported_by=principal.name,
        settings=settings,
    )
    imported = result.statement
    return StatementOut(
        id=imported.id,
        rows=imported.rows,
        new=imported.new,
        duplicates=imported.duplicates,
        rejected=[RejectedLine(**r) for r in imported.rejected],
    )


async def _chunks(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(CHUNK_BYTES):
        yield chunk


@router.get(
    "/exceptions",
    response_model=ExceptionPage,
    responses=responses(InvalidApiKey, InvalidCursor),
)
async def list_exceptions(
    session: SessionDep,
    _: ServiceDep,
    status: ExceptionStatus | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ExceptionPage:
    """Exceptions, the longest waiting first."""
    found, next_cursor = await service.exception_page(
        session, status=status, cursor=cursor, limit=limit
    )
    return ExceptionPage(items=[ExceptionOut.of(e) for e in found], next_cursor=next_cursor)


@router.post(
    "/exceptions/{exception_id}/resolve",
    response_model=ExceptionOut,
    responses=responses(
        InvalidApiKey, ExceptionNotFound, ExceptionAlreadyResolved, InvalidResolution
    ),
)
async def resolve_exception(
    exception_id: uuid.UUID,
    body: Resolve,
    _: ServiceDep,
    session: SessionDep,
    settings: SettingsDep,
) -> ExceptionOut:
    """Close an exception with an action and a note, recorded on the payment's timeline."""
    resolved = await service.resolve_exception(
        session,
        exception_id=exception_id,
        action=body.action,
        note=body.note,
        actor=body.actor,
        payment_id=body.payment_id,
        settings=settings,
    )
    return ExceptionOut.of(resolved)


@results_router.post(
    "/result/{token}",
    response_model=ResultAck,
    responses=responses(UnknownResultUrl, CallbackSourceRefused, CallbackTooLarge),
)
async def transaction_status_result(
    token: str, incoming: IncomingCallbackDep, session: SessionDep, settings: SettingsDep
) -> ResultAck:
    """Daraja's Transaction Status result: stored, then applied by a job."""
    await status.receive(session, token=token, kind="result", body=incoming.body, settings=settings)
    return ResultAck()


@results_router.post(
    "/result/{token}/timeout",
    response_model=ResultAck,
    responses=responses(UnknownResultUrl, CallbackSourceRefused, CallbackTooLarge),
)
async def transaction_status_timeout(
    token: str, incoming: IncomingCallbackDep, session: SessionDep, settings: SettingsDep
) -> ResultAck:
    """Daraja's queue timeout for a Transaction Status request: it will be asked again."""
    await status.receive(
        session, token=token, kind="timeout", body=incoming.body, settings=settings
    )
    return ResultAck()


@router.post(
    "/c2b/register",
    response_model=C2BRegistered,
    responses=responses(InvalidApiKey, C2BNotConfigured, DarajaUnreachable),
)
async def register_c2b(_: ServiceDep, settings: SettingsDep, daraja: DarajaDep) -> C2BRegistered:
    """Register the paybill's C2B ConfirmationURL and ValidationURL with Daraja."""
    return C2BRegistered(daraja=await c2b.register_or_explain(daraja=daraja, settings=settings))


@results_router.post(
    "/c2b/{token}/confirmation",
    response_model=C2BAck,
    responses=responses(UnknownResultUrl, CallbackSourceRefused, CallbackTooLarge),
)
async def c2b_confirmation(
    token: str, incoming: IncomingCallbackDep, session: SessionDep, settings: SettingsDep
) -> C2BAck:
    """M-Pesa confirms money paid to the paybill: stored, then matched by a job."""
    await c2b.receive(session, token=token, body=incoming.body, settings=settings)
    return C2BAck(result_desc="Success")


@results_router.post(
    "/c2b/{token}/validation",
    response_model=C2BAck,
    responses=responses(UnknownResultUrl, CallbackSourceRefused, CallbackTooLarge),
)
async def c2b_validation(
    token: str, incoming: IncomingCallbackDep, session: SessionDep, settings: SettingsDep
) -> C2BAck:
    """M-Pesa asks whether to take money: yes, unless set to refuse an unknown reference."""
    c2b.check_token(token, settings)
    code = await c2b.validate(session, body=incoming.body, settings=settings)
    if code != c2b.ACCEPTED:
        return C2BAck(result_code=code, result_desc="Rejected: no open payment has this account")
    return C2BAck(result_desc="Accepted")
