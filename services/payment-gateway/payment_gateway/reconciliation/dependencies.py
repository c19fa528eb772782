"""What the reconciliation routes take from a request: the run or exception in the path,
loaded and 404-checked."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.dependencies import SettingsDep
from payment_gateway.models import ReconciliationRun
from payment_gateway.reconciliation import service
from payment_gateway.reconciliation.exceptions import ResultTooLarge
from shared.db import SessionDep


async def path_run(run_id: uuid.UUID, session: SessionDep, _: ServiceDep) -> ReconciliationRun:
    return await service.get_run(session, run_id=run_id)


RunDep = Annotated[ReconciliationRun, Depends(path_run)]


async def result_body(request: Request, settings: SettingsDep) -> bytes:
    """A Result's raw bytes, bounded like an STK callback's."""
    too_large = ResultTooLarge(f"result bodies are at most {settings.CALLBACK_MAX_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.CALLBACK_MAX_BYTES:
        raise too_large
    body = await request.body()
    if len(body) > settings.CALLBACK_MAX_BYTES:
        raise too_large
    return body


ResultBody = Annotated[bytes, Depends(result_body)]
