"""SQL of the callback inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import func, select, update

from payment_gateway.models import CallbackInbox
from shared.repository import RepositoryBase

# One round trip, one implicit transaction: find the payment by token, store the body unless an
# identical one is already there (then count the resend, for the staff timeline), and announce
# a new row to the workers (PostgreSQL delivers the notification only once the row is
# committed). No row back: unknown token; a row without an id: a duplicate. `xmax = 0` holds
# only for a row this statement inserted.
STORE_CALLBACK = """
WITH target AS (
    SELECT payment_id FROM gateway.callback_token WHERE token_hash = $1
), stored AS (
    INSERT INTO gateway.callback_inbox (payment_id, dedupe_key, body, source_ip, received_at)
    SELECT payment_id, payment_id::text || ':' || $2, $3, $4, now()
    FROM target
    ON CONFLICT (dedupe_key) DO UPDATE SET resends = gateway.callback_inbox.resends + 1
    RETURNING id, (xmax = 0) AS inserted
)
SELECT CASE WHEN stored.inserted THEN stored.id END,
       CASE WHEN stored.inserted THEN pg_notify($5, stored.id::text) END
FROM target LEFT JOIN stored ON true
"""

WAITING_CALLBACKS = "SELECT id FROM gateway.callback_inbox WHERE processed_at IS NULL ORDER BY id"


@dataclass(frozen=True)
class Stored:
    inbox_id: int | None  # None: an identical callback was stored before


class CallbackInboxRepository(RepositoryBase[CallbackInbox]):
    """The stored callbacks. Two queries run on plain asyncpg rather than the session: the
    store (the hottest write of the service, one statement that needs no unit of work; see
    `payment_gateway.clients.callback_store`) and the listener's catch-up read."""

    model = CallbackInbox

    @staticmethod
    async def store(
        pool: asyncpg.Pool,
        *,
        token_hash: str,
        digest: str,
        body: bytes,
        source_ip: str | None,
        channel: str,
    ) -> Stored | None:
        row = await pool.fetchrow(STORE_CALLBACK, token_hash, digest, body, source_ip, channel)
        if row is None:
            return None
        return Stored(inbox_id=row[0])

    @staticmethod
    async def waiting(connection: asyncpg.Connection) -> list[int]:
        """Every unprocessed callback, oldest first: what was announced while nobody listened."""
        return [row["id"] for row in await connection.fetch(WAITING_CALLBACKS)]

    async def lock_unprocessed(self, inbox_id: int) -> CallbackInbox | None:
        """The inbox row if nobody has processed it and nobody is processing it right now."""
        return await self.get_one_or_none(
            self.select()
            .where(CallbackInbox.id == inbox_id, CallbackInbox.processed_at.is_(None))
            .with_for_update(skip_locked=True)
        )

    async def mark(
        self, *, inbox: CallbackInbox, outcome: str, verdict: str | None, note: str | None
    ) -> None:
        inbox.outcome = outcome
        inbox.verdict = verdict
        inbox.note = note
        inbox.processed_at = func.now()
        await self.session.flush()

    async def count_attempt(self, inbox_id: int) -> CallbackInbox | None:
        """Count one more attempt at an unprocessed callback and return it (`attempts` includes
        this one); None when it was processed already."""
        result = await self.session.execute(
            update(CallbackInbox)
            .where(CallbackInbox.id == inbox_id, CallbackInbox.processed_at.is_(None))
            .values(attempts=CallbackInbox.attempts + 1)
            .returning(CallbackInbox)
        )
        return result.scalar_one_or_none()

    async def unprocessed(self, *, older_than: datetime, limit: int) -> list[int]:
        result = await self.session.execute(
            select(CallbackInbox.id)
            .where(CallbackInbox.processed_at.is_(None), CallbackInbox.received_at < older_than)
            .order_by(CallbackInbox.received_at)
            .limit(limit)
        )
        return list(result.scalars())
