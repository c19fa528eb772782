"""What the payment routes take from a request: the payment in the path (loaded, 404-checked)
and the Idempotency-Key header."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header

from payment_gateway.auth.dependencies import ServiceDep
from payment_gateway.models import Payment
from payment_gateway.payment import service
from shared.db import SessionDep


async def path_payment(payment_id: uuid.UUID, session: SessionDep, _: ServiceDep) -> Payment:
    return await service.get(session, payment_id=payment_id)


PaymentDep = Annotated[Payment, Depends(path_payment)]
IdempotencyKeyHeader = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="1 to 255 printable ASCII characters, unique per intended payment.",
    ),
]
