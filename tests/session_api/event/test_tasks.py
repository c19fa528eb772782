from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from session_api.config import Settings
from session_api.event.tasks import refresh_stale_attempts
from session_api.models import PaymentAttempt, UserRole
from tests.session_api.fixtures import (
    PHONE,
    FakeGateway,
    MakeAccount,
    approved_booking,
    deliver,
    make_settings,
)


class TestRefreshStaleAttempts:
    async def test_settles_attempts_whose_events_never_came(
        self,
        app: FastAPI,
        live_api: httpx.AsyncClient,
        live_account: MakeAccount,
        gateway: FakeGateway,
        settings: Settings,
    ) -> None:
        client = await live_account()
        therapist = await live_account(role=UserRole.therapist)
        booking = await approved_booking(live_api, client, therapist)
        attempt = (
            await live_api.post(
                f"/v1/bookings/{booking['id']}/pay", json={"phone": PHONE}, headers=client.headers
            )
        ).json()
        fresh = (
            await live_api.post(
                "/v1/wallet/deposits",
                json={"amount": 100, "phone": "0722000111"},
                headers=client.headers,
            )
        ).json()["attempt"]
        # The gateway settled both, but its events were lost; one attempt is old enough to check.
        payment_id = gateway.payments[gateway.by_key[f"session-api:booking:{booking['id']}:1"]][
            "id"
        ]
        gateway.payments[payment_id]["sequence"] = 3
        gateway.paid(payment_id, receipt="SGHPOLL001")
        gateway.paid(gateway.last_payment()["id"])
        async with app.state.sessionmaker() as session, session.begin():
            await session.execute(
                update(PaymentAttempt)
                .where(PaymentAttempt.id == attempt["id"])
                .values(updated_at=datetime.now(UTC) - timedelta(hours=1))
            )
        ctx = {
            "settings": settings,
            "sessionmaker": app.state.sessionmaker,
            "redis": app.state.arq,
            "gateway": gateway.client(),
        }

        assert await refresh_stale_attempts(ctx) == 1
        assert await refresh_stale_attempts(ctx) == 0

        seen = (await live_api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)).json()
        assert (seen["status"], seen["payment"]["receipt_number"]) == ("confirmed", "SGHPOLL001")
        polled = await live_api.get(f"/v1/payments/{fresh['id']}", headers=client.headers)
        assert polled.json()["status"] == "processing"

    async def test_an_unreachable_gateway_is_skipped(
        self,
        app: FastAPI,
        live_api: httpx.AsyncClient,
        live_account: MakeAccount,
        gateway: FakeGateway,
        settings: Settings,
    ) -> None:
        client = await live_account()
        await live_api.post(
            "/v1/wallet/deposits", json={"amount": 100, "phone": PHONE}, headers=client.headers
        )
        async with app.state.sessionmaker() as session, session.begin():
            await session.execute(
                update(PaymentAttempt).values(updated_at=datetime.now(UTC) - timedelta(hours=1))
            )
        gateway.router.get(path__regex=r"^/v1/payments/.+$").mock(
            side_effect=httpx.ConnectError("down")
        )
        ctx = {
            "settings": settings,
            "sessionmaker": app.state.sessionmaker,
            "redis": app.state.arq,
            "gateway": gateway.client(),
        }

        assert await refresh_stale_attempts(ctx) == 0

    async def test_fetches_the_receipt_of_an_attempt_paid_without_one(
        self,
        app: FastAPI,
        live_api: httpx.AsyncClient,
        live_account: MakeAccount,
        gateway: FakeGateway,
        settings: Settings,
    ) -> None:
        client = await live_account()
        deposit = (
            await live_api.post(
                "/v1/wallet/deposits", json={"amount": 100, "phone": PHONE}, headers=client.headers
            )
        ).json()
        payment_id = gateway.last_payment()["id"]
        await deliver(live_api, gateway.event(payment_id, "completed", result_code="0"))
        # The gateway learns the receipt from the callback later, and sends no event for it.
        gateway.payments[payment_id]["receipt_number"] = "SGHBACKF01"
        ctx = {
            "settings": make_settings(
                settings.DATABASE_URL, settings.REDIS_URL, RECEIPT_BACKFILL_AFTER_S=0
            ),
            "sessionmaker": app.state.sessionmaker,
            "redis": app.state.arq,
            "gateway": gateway.client(),
        }

        assert await refresh_stale_attempts(ctx) == 1

        seen = (
            await live_api.get(f"/v1/wallet/deposits/{deposit['id']}", headers=client.headers)
        ).json()
        assert (seen["status"], seen["receipt_number"]) == ("paid", "SGHBACKF01")
        assert (await live_api.get("/v1/wallet", headers=client.headers)).json()["balance"] == 100
        assert await refresh_stale_attempts(ctx) == 0
