"""The read-back job never waits behind payments the gateway holds for review: such an attempt
learns it is held on its first read-back and is skipped after that, so however many are held,
every other overdue attempt is still read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from session_api.config import Settings
from session_api.event.tasks import refresh_stale_attempts
from session_api.models import PaymentAttempt
from tests.session_api.fixtures import FakeGateway, MakeAccount, make_settings


async def deposit(live_api: httpx.AsyncClient, client: Any, number: str) -> str:
    response = await live_api.post(
        "/v1/wallet/deposits", json={"amount": 100, "phone": number}, headers=client.headers
    )
    assert response.status_code == 201, response.text
    attempt_id: str = response.json()["attempt"]["id"]
    return attempt_id


async def test_held_attempts_do_not_stall_the_read_back(
    app: FastAPI,
    live_api: httpx.AsyncClient,
    live_account: MakeAccount,
    gateway: FakeGateway,
    settings: Settings,
) -> None:
    client = await live_account()
    held = []
    for n in range(3):
        held.append(await deposit(live_api, client, f"07220001{n:02d}"))
        # The gateway held it: a proven callback disagreed with what was asked.
        gateway.last_payment()["review_reason"] = "amount_mismatch"
    waiting = await deposit(live_api, client, "0722000199")
    gateway.paid(gateway.last_payment()["id"], receipt="SGHWAIT001")
    async with app.state.sessionmaker() as session, session.begin():
        # The held attempts are the most overdue of all.
        for n, attempt_id in enumerate([*held, waiting]):
            await session.execute(
                update(PaymentAttempt)
                .where(PaymentAttempt.id == attempt_id)
                .values(updated_at=datetime.now(UTC) - timedelta(hours=10 - n))
            )
    ctx = {
        "settings": make_settings(
            settings.DATABASE_URL, settings.REDIS_URL, STALE_REFRESH_BATCH_SIZE=2
        ),
        "sessionmaker": app.state.sessionmaker,
        "redis": app.state.arq,
        "gateway": gateway.client(),
    }

    changed = 0
    for _ in range(3):
        changed += await refresh_stale_attempts(ctx)

    assert changed == 1
    async with app.state.sessionmaker() as session:
        rows = {
            str(a.id): a
            for a in await session.scalars(
                select(PaymentAttempt).where(PaymentAttempt.id.in_([*held, waiting]))
            )
        }
    assert rows[waiting].status.value == "paid"
    assert {rows[a].review_reason for a in held} == {"amount_mismatch"}
    assert {rows[a].status.value for a in held} == {"processing"}

    # Held for long: once known to be held, they are never read back again.
    later = await deposit(live_api, client, "0722000198")
    gateway.paid(gateway.last_payment()["id"], receipt="SGHWAIT002")
    async with app.state.sessionmaker() as session, session.begin():
        for n, attempt_id in enumerate([*held, later]):
            await session.execute(
                update(PaymentAttempt)
                .where(PaymentAttempt.id == attempt_id)
                .values(updated_at=datetime.now(UTC) - timedelta(hours=10 - n))
            )

    assert await refresh_stale_attempts(ctx) == 1
