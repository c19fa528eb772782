"""`gateway.time_ordered_uuid()`: the UUIDv7 bulk-written exceptions take as ids, on any
PostgreSQL the platform runs on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def test_a_version_7_uuid_that_carries_the_time_and_sorts_by_it(
    db_session: AsyncSession,
) -> None:
    before = datetime.now(UTC)
    ids = [
        uuid.UUID(str(value))
        for value in (
            await db_session.scalars(
                text("SELECT gateway.time_ordered_uuid() FROM generate_series(1, 200)")
            )
        ).all()
    ]
    after = datetime.now(UTC)

    assert len(set(ids)) == 200
    assert {u.version for u in ids} == {7}
    assert {u.variant for u in ids} == {uuid.RFC_4122}
    moments = [datetime.fromtimestamp((u.int >> 80) / 1000, UTC) for u in ids]
    slack = timedelta(milliseconds=5)
    assert all(before - slack <= m <= after + slack for m in moments)
    # Ordered by time to the millisecond (within one millisecond the random bits decide).
    assert moments == sorted(moments)
