import uuid
from typing import Any

import httpx
import pytest

from session_api.models import UserRole
from tests.session_api.fixtures import PASSWORD, MakeAccount, future


class TestCreateTherapist:
    async def test_an_admin_creates_a_therapist_who_can_log_in(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        admin = await account(role=UserRole.admin)

        response = await api.post(
            "/v1/admin/therapists",
            json={
                "email": "dr.kamau@example.com",
                "password": PASSWORD,
                "full_name": "Dr. Kamau",
                "session_rate": 3_000,
                "bio": "Family therapy.",
                "specialties": ["Family", "couples "],
            },
            headers=admin.headers,
        )

        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["session_rate"], body["currency"]) == (3_000, "KES")
        assert body["specialties"] == ["couples", "family"]
        login = await api.post(
            "/v1/auth/login", json={"email": "dr.kamau@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200

    @pytest.mark.parametrize(
        ("rate", "status"), [(0, 422), (2_500.5, 422), ("2500", 422), (250_001, 400)]
    )
    async def test_a_bad_rate_names_the_field(
        self, api: httpx.AsyncClient, account: MakeAccount, rate: object, status: int
    ) -> None:
        admin = await account(role=UserRole.admin)

        response = await api.post(
            "/v1/admin/therapists",
            json={
                "email": "r@example.com",
                "password": PASSWORD,
                "full_name": "R",
                "session_rate": rate,
            },
            headers=admin.headers,
        )

        assert response.status_code == status
        assert "session_rate" in response.json()["detail"]


class TestListTherapists:
    async def test_lists_filters_and_pages(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        for name, rate in [("Achieng", 1_500), ("Baraka", 2_500), ("Chebet", 4_000)]:
            await account(role=UserRole.therapist, rate=rate, name=name)

        first = (await api.get("/v1/therapists", params={"page_size": 2})).json()
        second = (await api.get("/v1/therapists", params={"page_size": 2, "page": 2})).json()
        cheap = (await api.get("/v1/therapists", params={"max_rate": 2_500})).json()

        assert first["total"] == 3
        assert [t["full_name"] for t in first["items"] + second["items"]] == [
            "Achieng",
            "Baraka",
            "Chebet",
        ]
        assert [t["session_rate"] for t in cheap["items"]] == [1_500, 2_500]

    async def test_one_therapist_or_404(self, api: httpx.AsyncClient, account: MakeAccount) -> None:
        therapist = await account(role=UserRole.therapist, rate=2_000)
        client = await account()

        found = await api.get(f"/v1/therapists/{therapist.id}")
        not_a_therapist = await api.get(f"/v1/therapists/{client.id}")
        missing = await api.get(f"/v1/therapists/{uuid.uuid4()}")

        assert found.json()["session_rate"] == 2_000
        assert not_a_therapist.status_code == 404
        assert missing.status_code == 404

    async def test_the_specialty_filter_finds_who_lists_it(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        admin = await account(role=UserRole.admin)
        for name, specialties in [("Achieng", ["Anxiety", "grief"]), ("Baraka", ["couples"])]:
            created = await api.post(
                "/v1/admin/therapists",
                json={
                    "email": f"{name.lower()}@example.com",
                    "password": PASSWORD,
                    "full_name": name,
                    "session_rate": 2_000,
                    "specialties": specialties,
                },
                headers=admin.headers,
            )
            assert created.status_code == 201, created.text

        found = {
            specialty: [
                t["full_name"]
                for t in (await api.get("/v1/therapists", params={"specialty": specialty})).json()[
                    "items"
                ]
            ]
            for specialty in ("anxiety", " GRIEF ", "couples", "trauma")
        }

        assert found == {
            "anxiety": ["Achieng"],
            " GRIEF ": ["Achieng"],
            "couples": ["Baraka"],
            "trauma": [],
        }

    @pytest.mark.parametrize(
        "params",
        [
            {"page": 0},
            {"page_size": 101},
            {"max_rate": 0},
            {"max_rate": 2**31},
            {"max_rate": 10**20},
            {"page": 10**18},
            {"specialty": "anxiety\x00"},
        ],
    )
    async def test_bad_paging_or_filters_name_the_parameter(
        self, api: httpx.AsyncClient, params: dict[str, Any]
    ) -> None:
        response = await api.get("/v1/therapists", params=params)

        assert response.status_code == 422
        assert next(iter(params)) in response.json()["detail"]


class TestUpdateMyProfile:
    async def test_a_new_rate_prices_new_bookings_only(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        therapist = await account(role=UserRole.therapist, rate=2_000)
        client = await account()
        before = await api.post(
            "/v1/bookings",
            json={"therapist_id": therapist.id, "scheduled_at": future(2)},
            headers=client.headers,
        )

        updated = await api.patch(
            "/v1/therapists/me",
            json={"session_rate": 3_000, "specialties": ["Grief"]},
            headers=therapist.headers,
        )
        after = await api.post(
            "/v1/bookings",
            json={"therapist_id": therapist.id, "scheduled_at": future(4)},
            headers=client.headers,
        )
        old = await api.get(f"/v1/bookings/{before.json()['id']}", headers=client.headers)

        assert updated.status_code == 200, updated.text
        assert (updated.json()["session_rate"], updated.json()["specialties"]) == (3_000, ["grief"])
        assert old.json()["price"] == 2_000
        assert after.json()["price"] == 3_000

    async def test_not_accepting_clients_refuses_new_bookings(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        therapist = await account(role=UserRole.therapist)
        # Read before the refused request: its rollback expires the rows this test holds.
        therapist_id = therapist.id
        client = await account()
        await api.patch(
            "/v1/therapists/me", json={"is_accepting_clients": False}, headers=therapist.headers
        )

        response = await api.post(
            "/v1/bookings",
            json={"therapist_id": therapist_id, "scheduled_at": future()},
            headers=client.headers,
        )
        listed = (await api.get("/v1/therapists")).json()

        assert response.status_code == 400
        assert "not taking new clients" in response.json()["detail"]
        assert therapist_id not in [t["id"] for t in listed["items"]]

    async def test_only_therapists_have_a_profile(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()

        response = await api.patch(
            "/v1/therapists/me", json={"session_rate": 100}, headers=client.headers
        )

        assert response.status_code == 403
