import uuid

import httpx

from session_api.models import UserRole
from tests.session_api.fixtures import MakeAccount, approved_booking


class TestNotifications:
    async def test_unread_filter_and_marking_read(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        await approved_booking(api, client, therapist, days=2)
        await approved_booking(api, client, therapist, days=3)
        unread = (await api.get("/v1/notifications?unread=true", headers=client.headers)).json()

        marked = await api.post(
            f"/v1/notifications/{unread['items'][0]['id']}/read", headers=client.headers
        )
        after = (await api.get("/v1/notifications?unread=true", headers=client.headers)).json()

        assert unread["total"] == 2
        assert marked.json()["read_at"] is not None
        assert after["total"] == 1

    async def test_someone_elses_notification_is_404(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        await approved_booking(api, client, therapist)
        note = (await api.get("/v1/notifications", headers=client.headers)).json()["items"][0]

        stolen = await api.post(f"/v1/notifications/{note['id']}/read", headers=therapist.headers)
        missing = await api.post(f"/v1/notifications/{uuid.uuid4()}/read", headers=client.headers)

        assert (stolen.status_code, missing.status_code) == (404, 404)
