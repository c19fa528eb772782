"""What the reconciliation routes take from a request: the run or exception in the path,
loaded and 404-checked."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.models import ReconciliationRun
from payment_gateway.reconciliation import service
from shared.db import SessionDep


async def path_run(run_id: uuid.UUID, session: SessionDep, _: ServiceDep) -> ReconciliationRun:
    return await service.get_run(session, run_id=run_id)


RunDep = Annotated[ReconciliationRun, Depends(path_run)]
