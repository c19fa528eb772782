from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert

from session_api.integrations.gateway import GatewayEventBody, ReconciliationEventBody
from session_api.models import EventOutcome, GatewayEvent
from shared.repository import RepositoryBase


class GatewayEventRepository(RepositoryBase[GatewayEvent]):
    model = GatewayEvent

    async def store(
        self, *, webhook_id: str, event: GatewayEventBody | ReconciliationEventBody
    ) -> uuid.UUID | None:
        """The inbox row's id, or None if this `webhook-id` was stored before. A concurrent
        delivery of the same id waits here for the first one's transaction, then gets None.
        A reconciliation event is filed under its run's id."""
        result = await self.session.execute(
            insert(GatewayEvent)
            .values(
                id=uuid.uuid4(),
                webhook_id=webhook_id,
                event_type=event.type,
                gateway_payment_id=event.data.id,
                sequence=event.sequence,
                payload=event.model_dump(mode="json"),
            )
            .on_conflict_do_nothing(index_elements=[GatewayEvent.webhook_id])
            .returning(GatewayEvent.id)
        )
        return result.scalar_one_or_none()

    async def mark(self, event_id: uuid.UUID, *, outcome: EventOutcome, at: datetime) -> None:
        await self.session.execute(
            update(GatewayEvent)
            .where(GatewayEvent.id == event_id)
            .values(outcome=outcome, processed_at=at)
        )
