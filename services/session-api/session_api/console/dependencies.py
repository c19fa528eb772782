"""What the console's list and export take from a request: the filters, declared once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.console.repository import AttemptFilters
from session_api.console.schemas import Environment
from session_api.models import AttemptStatus, PayableType
from shared import db
from shared.schemas import INT32_MAX, AwareTimestamp, Text


async def attempt_filters(
    status: Annotated[list[AttemptStatus] | None, Query(description="Repeatable.")] = None,
    payable_type: Annotated[
        list[PayableType] | None, Query(description="Repeatable: booking, order, deposit.")
    ] = None,
    created_from: Annotated[
        AwareTimestamp | None,
        Query(alias="from", description="Inclusive, ISO 8601 with a UTC offset."),
    ] = None,
    created_to: Annotated[
        AwareTimestamp | None,
        Query(alias="to", description="Exclusive, ISO 8601 with a UTC offset."),
    ] = None,
    amount_min: Annotated[int | None, Query(ge=1, le=INT32_MAX, description="KES.")] = None,
    amount_max: Annotated[int | None, Query(ge=1, le=INT32_MAX, description="KES.")] = None,
    environment: Annotated[Environment | None, Query()] = None,
) -> AttemptFilters:
    return AttemptFilters(
        statuses=[s.value for s in status or []],
        payable_types=[p.value for p in payable_type or []],
        created_from=created_from,
        created_to=created_to,
        amount_min=amount_min,
        amount_max=amount_max,
        environment=environment.value if environment else None,
    )


FiltersDep = Annotated[AttemptFilters, Depends(attempt_filters)]
SearchText = Annotated[
    Text | None,
    Query(
        max_length=120,
        description="Receipt number, phone or its last digits, client name or e-mail, therapist "
        "name, booking/order/attempt id, order number, or checkout request id.",
    ),
]
# The request-scoped unit of work: it stays open until a streamed response has been sent (the
# usual `SessionDep` ends when the endpoint returns, before a stream's body is read).
StreamingSessionDep = Annotated[AsyncSession, Depends(db.get_db_session)]
