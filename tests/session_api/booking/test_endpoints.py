import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from session_api.models import SessionType, UserRole
from tests.session_api.fixtures import (
    PHONE,
    Account,
    FakeGateway,
    MakeAccount,
    approved_booking,
    deliver,
    future,
)


async def book(
    api: httpx.AsyncClient, client: Account, therapist: Account, **fields: object
) -> httpx.Response:
    body = {"therapist_id": therapist.id, "scheduled_at": future(), **fields}
    return await api.post("/v1/bookings", json=body, headers=client.headers)


class TestCreate:
    async def test_waits_for_approval_at_the_therapists_rate(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account(name="Wanjiru")
        therapist = await account(role=UserRole.therapist, rate=3_200, name="Dr. Otieno")

        response = await book(api, client, therapist, session_type="couples", notes="first time")

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "pending_approval"
        assert (body["price"], body["currency"]) == (3_200, "KES")
        assert body["client"] == {"id": client.id, "full_name": "Wanjiru"}
        assert body["therapist"] == {"id": therapist.id, "full_name": "Dr. Otieno"}
        assert body["payment"]["status"] == "unpaid"
        notes = (await api.get("/v1/notifications", headers=therapist.headers)).json()["items"]
        assert [n["kind"] for n in notes] == ["booking.requested"]

    @given(
        session_type=st.sampled_from(list(SessionType)),
        minutes_ahead=st.integers(min_value=16, max_value=60 * 24 * 365),
        rate=st.integers(min_value=1, max_value=250_000),
    )
    @hypothesis_settings(
        max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    async def test_any_valid_request_is_pending_approval_at_the_rate(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        session_type: SessionType,
        minutes_ahead: int,
        rate: int,
    ) -> None:
        # Property 1 (004): a valid booking always starts as pending approval.
        client = await account()
        therapist = await account(role=UserRole.therapist, rate=rate)
        when = datetime.now(UTC) + timedelta(minutes=minutes_ahead)

        response = await book(
            api, client, therapist, session_type=session_type, scheduled_at=when.isoformat()
        )

        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending_approval"
        assert response.json()["price"] == rate

    @pytest.mark.parametrize(
        ("fields", "status", "named"),
        [
            ({"scheduled_at": "2020-01-01T09:00:00+03:00"}, 400, "scheduled_at"),
            ({"scheduled_at": "2099-01-01T09:00:00"}, 422, "scheduled_at"),
            ({"scheduled_at": "tomorrow"}, 422, "scheduled_at"),
            ({"therapist_id": str(uuid.uuid4())}, 400, "therapist_id"),
            ({"therapist_id": "42"}, 422, "therapist_id"),
            ({"session_type": "massage"}, 422, "session_type"),
            ({"scheduled_at": "9999-12-31T23:30:00Z"}, 422, "years 1970 to 2999"),
            ({"scheduled_at": "9999-12-31T20:00:00-14:00"}, 422, "years 1970 to 2999"),
            ({"notes": "call me\x00"}, 422, "notes"),
            ({"price": 1}, 422, "price"),
        ],
        ids=[
            "past",
            "no timezone",
            "not a time",
            "unknown therapist",
            "not an id",
            "bad type",
            "year 9999",
            "year 9999 west of UTC",
            "NUL in notes",
            "unknown field",
        ],
    )
    async def test_bad_input_names_the_field(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        fields: dict[str, str],
        status: int,
        named: str,
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)

        response = await book(api, client, therapist, **fields)

        assert response.status_code == status
        assert named in response.json()["detail"]

    async def test_a_time_in_the_next_minutes_is_too_soon(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()

        response = await book(api, client, therapist, scheduled_at=soon)

        assert response.status_code == 400
        assert "at least 15 minutes" in response.json()["detail"]

    async def test_only_clients_book(self, api: httpx.AsyncClient, account: MakeAccount) -> None:
        therapist = await account(role=UserRole.therapist)
        other = await account(role=UserRole.therapist)

        response = await book(api, therapist, other)

        assert response.status_code == 403

    async def test_a_slot_the_therapist_already_has_is_409(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        await approved_booking(api, client, therapist, days=3)

        response = await book(api, client, therapist, scheduled_at=future(3))

        assert response.status_code == 409
        assert response.json()["error"] == "ScheduleConflict"


class TestDecisions:
    async def test_the_therapist_approves_and_the_client_is_told_to_pay(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist, rate=2_500)

        booking = await approved_booking(api, client, therapist)

        assert booking["status"] == "approved"
        assert booking["approved_at"] is not None
        notes = (await api.get("/v1/notifications", headers=client.headers)).json()["items"]
        assert notes[0]["kind"] == "booking.approved"
        assert "KES 2,500" in notes[0]["body"]

    async def test_another_therapist_cannot_approve_or_decline(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        intruder = await account(role=UserRole.therapist)
        booking = (await book(api, client, therapist)).json()

        for action in ("approve", "decline"):
            response = await api.post(
                f"/v1/bookings/{booking['id']}/{action}", headers=intruder.headers
            )
            assert response.status_code == 404
        seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)).json()
        assert seen["status"] == "pending_approval"

    async def test_the_client_cannot_approve_their_own_booking(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = (await book(api, client, therapist)).json()

        response = await api.post(f"/v1/bookings/{booking['id']}/approve", headers=client.headers)

        assert response.status_code == 403

    async def test_decline_with_a_reason(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = (await book(api, client, therapist)).json()

        response = await api.post(
            f"/v1/bookings/{booking['id']}/decline",
            json={"reason": "on leave that week"},
            headers=therapist.headers,
        )
        again = await api.post(f"/v1/bookings/{booking['id']}/approve", headers=therapist.headers)

        assert response.json()["status"] == "declined"
        assert response.json()["decline_reason"] == "on leave that week"
        assert again.status_code == 409

    async def test_approving_an_overlapping_request_is_409(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        other_client = await account()
        therapist = await account(role=UserRole.therapist)
        first = (await book(api, client, therapist)).json()
        second = (await book(api, other_client, therapist)).json()
        await api.post(f"/v1/bookings/{first['id']}/approve", headers=therapist.headers)

        response = await api.post(f"/v1/bookings/{second['id']}/approve", headers=therapist.headers)

        assert response.status_code == 409
        assert response.json()["error"] == "ScheduleConflict"


class TestCancel:
    async def test_the_client_cancels_before_paying(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)

        response = await api.post(f"/v1/bookings/{booking['id']}/cancel", headers=client.headers)

        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"

    async def test_not_while_a_payment_waits_on_the_phone_nor_once_paid(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        await api.post(
            f"/v1/bookings/{booking['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )

        while_paying = await api.post(
            f"/v1/bookings/{booking['id']}/cancel", headers=client.headers
        )
        await deliver(api, gateway.paid(gateway.last_payment()["id"]))
        once_paid = await api.post(f"/v1/bookings/{booking['id']}/cancel", headers=client.headers)

        assert while_paying.status_code == 409
        assert "waiting on your phone" in while_paying.json()["detail"]
        assert once_paid.status_code == 409
        assert "confirmed" in once_paid.json()["detail"]


class TestPayPreconditions:
    async def test_paying_an_unapproved_booking_is_409_with_a_message(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        # Property 5 (004): a pending booking cannot be paid.
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = (await book(api, client, therapist)).json()

        response = await api.post(
            f"/v1/bookings/{booking['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )

        assert response.status_code == 409
        assert response.json()["error"] == "BookingStateConflict"
        assert "approval" in response.json()["detail"]
        assert gateway.creates == []

    @pytest.mark.parametrize("phone", ["0812345678", "12345", "2547123456789", "", "07123456ab"])
    async def test_a_bad_phone_names_the_field(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway, phone: str
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)

        response = await api.post(
            f"/v1/bookings/{booking['id']}/pay", json={"phone": phone}, headers=client.headers
        )

        assert response.status_code == 422
        assert response.json()["detail"].startswith("phone:")
        assert "07XXXXXXXX" in response.json()["detail"] or phone == ""
        assert gateway.creates == []

    async def test_someone_elses_booking_is_404(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        stranger = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)

        for method, path, body in [
            ("GET", f"/v1/bookings/{booking['id']}", None),
            ("POST", f"/v1/bookings/{booking['id']}/pay", {"phone": PHONE}),
            ("POST", f"/v1/bookings/{booking['id']}/cancel", None),
            ("GET", f"/v1/bookings/{booking['id']}/payments", None),
        ]:
            response = await api.request(method, path, json=body, headers=stranger.headers)
            assert response.status_code == 404, (method, path)


class TestList:
    async def test_each_side_sees_its_own_with_filters_and_pages(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        other_client = await account()
        therapist = await account(role=UserRole.therapist)
        other_therapist = await account(role=UserRole.therapist)
        paid = await approved_booking(api, client, therapist, days=2)
        await api.post(
            f"/v1/bookings/{paid['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )
        await deliver(api, gateway.paid(gateway.last_payment()["id"], receipt="SGHLIST001"))
        await approved_booking(api, client, therapist, days=4)
        await book(api, client, therapist, scheduled_at=future(6))
        await book(api, other_client, other_therapist, scheduled_at=future(6))

        mine = (await api.get("/v1/bookings", headers=client.headers)).json()
        theirs = (await api.get("/v1/bookings", headers=therapist.headers)).json()
        unpaid = (
            await api.get(
                "/v1/bookings",
                params={"payment_status": "unpaid"},
                headers=therapist.headers,
            )
        ).json()
        confirmed = (
            await api.get("/v1/bookings", params={"status": "confirmed"}, headers=therapist.headers)
        ).json()
        window = (
            await api.get(
                "/v1/bookings",
                params={"scheduled_from": future(3), "scheduled_to": future(5)},
                headers=client.headers,
            )
        ).json()
        page_two = (
            await api.get(
                "/v1/bookings", params={"page": 2, "page_size": 2}, headers=client.headers
            )
        ).json()

        assert mine["total"] == 3
        assert theirs["total"] == 3
        assert unpaid["total"] == 2
        assert [b["payment"]["receipt_number"] for b in confirmed["items"]] == ["SGHLIST001"]
        assert window["total"] == 1
        assert len(page_two["items"]) == 1
        assert page_two["items"][0]["scheduled_at"].startswith(future(6)[:10])

    @pytest.mark.parametrize(
        "params",
        [
            {"scheduled_from": "9999-12-31T23:59:59-14:00"},
            {"scheduled_to": "0001-01-01T00:00:00+14:00"},
            {"page": 10**18},
            {"page": 100_001},
        ],
    )
    async def test_filters_out_of_range_are_422_naming_the_parameter(
        self, api: httpx.AsyncClient, account: MakeAccount, params: dict[str, Any]
    ) -> None:
        client = await account()

        response = await api.get("/v1/bookings", params=params, headers=client.headers)

        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == f"query.{next(iter(params))}"
