"""Users turn non-essential email and SMS off by topic; receipts and failures always go."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import NotificationDelivery, UserRole
from tests.session_api.fixtures import MakeAccount, approved_booking


async def outbox_kinds(session: AsyncSession, user_id: object) -> list[str]:
    rows = await session.scalars(
        select(NotificationDelivery.kind).where(NotificationDelivery.user_id == user_id)
    )
    return sorted(rows)


class TestPreferences:
    async def test_every_topic_is_on_until_turned_off(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()

        before = (await api.get("/v1/notifications/preferences", headers=client.headers)).json()
        changed = await api.put(
            "/v1/notifications/preferences",
            json={"topics": [{"topic": "bookings", "email": False}]},
            headers=client.headers,
        )

        topics = {t["topic"] for t in before["topics"]}
        assert topics == {"bookings", "reminders", "orders", "wallet"}
        assert all(t["email"] and t["sms"] for t in before["topics"])
        bookings = next(t for t in changed.json()["topics"] if t["topic"] == "bookings")
        assert (bookings["email"], bookings["sms"]) == (False, True)
        assert "receipts" in changed.json()["always_sent"]

    async def test_a_topic_turned_off_sends_no_email_but_the_in_app_note_stays(
        self, api: httpx.AsyncClient, account: MakeAccount, db_session: AsyncSession
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        await api.put(
            "/v1/notifications/preferences",
            json={"topics": [{"topic": "bookings", "email": False}]},
            headers=client.headers,
        )

        await approved_booking(api, client, therapist)
        notes = (await api.get("/v1/notifications", headers=client.headers)).json()

        assert await outbox_kinds(db_session, client.user.id) == []
        assert await outbox_kinds(db_session, therapist.user.id) == ["booking.requested"]
        assert [n["kind"] for n in notes["items"]] == ["booking.approved"]

    async def test_an_unknown_topic_is_refused_naming_the_topics(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()

        response = await api.put(
            "/v1/notifications/preferences",
            json={"topics": [{"topic": "receipts", "email": False}]},
            headers=client.headers,
        )

        assert response.status_code == 422
        assert "bookings" in response.text
