"""SQL of what reconciliation asks Daraja asynchronously: Transaction Status requests, and the
inbox of what Daraja posts back (Results, queue timeouts, C2B confirmations)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from payment_gateway.models import ResultInbox, StatusQuery, StatusQueryState
from shared.repository import RepositoryBase


class StatusQueryRepository(RepositoryBase[StatusQuery]):
    model = StatusQuery

    async def by_token(self, token_hash: str) -> StatusQuery | None:
        return await self.get_one_or_none(
            self.select().where(StatusQuery.token_hash == token_hash).with_for_update()
        )

    async def set_states(self, states: dict[int, str]) -> None:
        for query_id, state in states.items():
            await self.session.execute(
                update(StatusQuery).where(StatusQuery.id == query_id).values(state=state)
            )

    async def counts(self, run_id: uuid.UUID) -> dict[str, int]:
        result = await self.session.execute(
            select(StatusQuery.state, func.count())
            .where(StatusQuery.run_id == run_id)
            .group_by(StatusQuery.state)
        )
        return {state: count for state, count in result.all()}

    async def unanswered(
        self, *, run_id: uuid.UUID, payment_ids: Sequence[uuid.UUID]
    ) -> set[uuid.UUID]:
        """Of these payments, those this run asked about and got no result for (still waiting,
        queue timeout, or refused)."""
        if not payment_ids:
            return set()
        result = await self.session.execute(
            select(StatusQuery.payment_id).where(
                StatusQuery.run_id == run_id,
                StatusQuery.payment_id.in_(list(payment_ids)),
                StatusQuery.state != StatusQueryState.answered,
            )
        )
        return set(result.scalars())

    async def to_ask_again(self, *, run_id: uuid.UUID, max_attempts: int) -> list[StatusQuery]:
        return list(
            await self.get_all(
                self.select()
                .where(
                    StatusQuery.run_id == run_id,
                    StatusQuery.state == StatusQueryState.timed_out,
                    StatusQuery.attempts < max_attempts,
                )
                .order_by(StatusQuery.id)
                .with_for_update()
            )
        )


class ResultInboxRepository(RepositoryBase[ResultInbox]):
    model = ResultInbox

    async def store(
        self, *, token_hash: str, kind: str, dedupe_key: str, body: bytes
    ) -> int | None:
        """The new row's id; None for an identical resend."""
        result = await self.session.execute(
            insert(ResultInbox)
            .values(token_hash=token_hash, kind=kind, dedupe_key=dedupe_key, body=body)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(ResultInbox.id)
        )
        return result.scalar_one_or_none()

    async def lock_unprocessed(self, inbox_id: int) -> ResultInbox | None:
        return await self.get_one_or_none(
            self.select()
            .where(ResultInbox.id == inbox_id, ResultInbox.processed_at.is_(None))
            .with_for_update(skip_locked=True)
        )
