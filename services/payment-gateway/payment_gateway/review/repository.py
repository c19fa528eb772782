"""SQL of staff review: the evidence a payment was held on."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from payment_gateway.models import PaymentEvent
from shared.repository import RepositoryBase

HELD_PREFIX = "held_"


class ReviewRepository(RepositoryBase[PaymentEvent]):
    model = PaymentEvent

    async def hold_evidence(self, payment_id: uuid.UUID) -> dict[str, Any]:
        """The detail of the payment's latest hold (the callback that caused it), or {}."""
        result = await self.session.execute(
            select(PaymentEvent.detail)
            .where(
                PaymentEvent.payment_id == payment_id,
                PaymentEvent.reason.startswith(HELD_PREFIX, autoescape=True),
            )
            .order_by(PaymentEvent.id.desc())
            .limit(1)
        )
        detail = result.scalar_one_or_none()
        return dict(detail) if detail else {}
