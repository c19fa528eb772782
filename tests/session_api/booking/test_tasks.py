from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.booking import service as booking_service
from session_api.booking.tasks import send_reminders
from session_api.config import Settings
from session_api.models import Booking, BookingStatus, UserRole
from tests.session_api.fixtures import PHONE, FakeGateway, MakeAccount, approved_booking, deliver


async def confirmed_booking(
    api: httpx.AsyncClient,
    account: MakeAccount,
    gateway: FakeGateway,
    session: AsyncSession,
    at: datetime,
) -> tuple[Any, Any, str]:
    client = await account()
    therapist = await account(role=UserRole.therapist)
    booking = await approved_booking(api, client, therapist)
    await api.post(
        f"/v1/bookings/{booking['id']}/pay", json={"phone": PHONE}, headers=client.headers
    )
    await deliver(api, gateway.paid(gateway.last_payment()["id"]))
    await session.execute(
        update(Booking).where(Booking.id == booking["id"]).values(scheduled_at=at)
    )
    return client, therapist, booking["id"]


async def remind(session: AsyncSession, now: datetime) -> int:
    reminded = await booking_service.send_reminders(session, lead_hours=[24, 1], now=now)
    await session.flush()
    return reminded


async def kinds(api: httpx.AsyncClient, who: Any) -> list[str]:
    notes = (await api.get("/v1/notifications", headers=who.headers)).json()["items"]
    return [n["title"] for n in notes if n["kind"] == "booking.reminder"]


class TestReminders:
    async def test_client_at_24_hours_then_both_at_1_hour_each_once(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
    ) -> None:
        # Properties 64 and 65 (004), as in-app notifications.
        now = datetime.now(UTC)
        client, therapist, _ = await confirmed_booking(
            api, account, gateway, db_session, now + timedelta(hours=23, minutes=50)
        )

        first = await remind(db_session, now)
        repeat = await remind(db_session, now)
        assert (first, repeat) == (1, 0)
        assert await kinds(api, client) == ["Session in 24 hours"]
        assert await kinds(api, therapist) == []

        later = now + timedelta(hours=23)
        assert await remind(db_session, later) == 1
        assert await kinds(api, client) == ["Session in 1 hour", "Session in 24 hours"]
        assert await kinds(api, therapist) == ["Session in 1 hour"]

    async def test_a_session_confirmed_at_short_notice_gets_only_the_nearest_reminder(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
    ) -> None:
        now = datetime.now(UTC)
        client, _, _ = await confirmed_booking(
            api, account, gateway, db_session, now + timedelta(minutes=40)
        )

        assert await remind(db_session, now) == 1
        assert await remind(db_session, now) == 0
        assert await kinds(api, client) == ["Session in 1 hour"]

    async def test_a_session_cancelled_after_its_first_reminder_gets_no_more(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
    ) -> None:
        now = datetime.now(UTC)
        client, therapist, booking_id = await confirmed_booking(
            api, account, gateway, db_session, now + timedelta(hours=23, minutes=50)
        )
        assert await remind(db_session, now) == 1

        # Cancelled (e.g. its payment refunded) before the 1-hour reminder was due.
        await db_session.execute(
            update(Booking).where(Booking.id == booking_id).values(status=BookingStatus.cancelled)
        )

        assert await remind(db_session, now + timedelta(hours=23)) == 0
        assert await kinds(api, client) == ["Session in 24 hours"]
        assert await kinds(api, therapist) == []

    async def test_the_job_runs_in_its_own_transaction(
        self,
        app: Any,
        live_api: httpx.AsyncClient,
        live_account: MakeAccount,
        settings: Settings,
    ) -> None:
        ctx = {"settings": settings, "sessionmaker": app.state.sessionmaker, "redis": None}

        assert await send_reminders(ctx) == 0
