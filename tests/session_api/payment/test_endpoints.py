import json
import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import PaymentAttempt, UserRole
from tests.session_api.fixtures import (
    PHONE,
    Account,
    FakeGateway,
    MakeAccount,
    approved_booking,
    deliver,
)


class TestPayBooking:
    async def test_answers_with_a_processing_attempt_and_the_pin_message(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist, rate=2_500)
        booking = await approved_booking(api, client, therapist)

        response = await api.post(
            f"/v1/bookings/{booking['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )

        assert response.status_code == 201, response.text
        attempt = response.json()
        assert attempt["status"] == "processing"
        assert attempt["customer_message"] == "Check your phone and enter your M-Pesa PIN"
        assert attempt["amount"] == 2_500
        assert attempt["phone"] == "254*****5678"
        assert attempt["receipt_number"] is None
        assert attempt["retry_hint"] is None
        sent = json.loads(gateway.creates[-1].content)
        assert sent["amount"] == 2_500
        assert sent["phone"] == "254712345678"
        assert len(sent["account_reference"]) <= 12
        assert len(sent["description"]) <= 13
        assert gateway.creates[-1].headers["Idempotency-Key"] == (
            f"session-api:booking:{booking['id']}:1"
        )
        assert gateway.creates[-1].headers["Authorization"] == "Bearer test-service-key"

    async def test_paid_event_confirms_the_booking_with_the_receipt_for_both_sides(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        attempt = (
            await api.post(
                f"/v1/bookings/{booking['id']}/pay", json={"phone": PHONE}, headers=client.headers
            )
        ).json()
        payment_id = gateway.last_payment()["id"]

        response = await deliver(api, gateway.paid(payment_id, receipt="SGH4TQ7XK2"))

        assert response.status_code == 200, response.text
        assert response.json()["outcome"] == "applied"
        for viewer in (client, therapist):
            seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=viewer.headers)).json()
            assert seen["status"] == "confirmed"
            assert seen["payment"]["status"] == "paid"
            assert seen["payment"]["receipt_number"] == "SGH4TQ7XK2"
            polled = await api.get(f"/v1/payments/{attempt['id']}", headers=viewer.headers)
            assert polled.status_code == 200
            assert polled.json()["status"] == "paid"
            assert polled.json()["receipt_number"] == "SGH4TQ7XK2"
        # Properties 25 and 62 (004): the therapist is told, with the receipt.
        told = (await api.get("/v1/notifications", headers=therapist.headers)).json()["items"]
        paid_note = next(n for n in told if n["kind"] == "booking.paid")
        assert paid_note["data"]["receipt_number"] == "SGH4TQ7XK2"
        assert "SGH4TQ7XK2" in paid_note["body"]


async def pay(api: httpx.AsyncClient, booking_id: str, payer: Account) -> httpx.Response:
    return await api.post(
        f"/v1/bookings/{booking_id}/pay", json={"phone": PHONE}, headers=payer.headers
    )


async def attempt_count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(PaymentAttempt)) or 0


class TestRetries:
    async def test_a_cancelled_payment_keeps_the_booking_approved_and_a_retry_succeeds(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        first = (await pay(api, booking["id"], client)).json()
        await deliver(api, gateway.cancelled(gateway.last_payment()["id"]))

        seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)).json()
        assert seen["status"] == "approved"
        assert seen["payment"]["status"] == "cancelled"
        assert seen["payment"]["reason"] == "customer_cancelled"
        polled = (await api.get(f"/v1/payments/{first['id']}", headers=client.headers)).json()
        assert polled["status"] == "cancelled"
        assert polled["reason"] == "customer_cancelled"
        assert polled["customer_message"] == "You cancelled the M-Pesa prompt."
        assert polled["can_retry"] is True
        assert "try again" in polled["retry_hint"]
        # Property 63 (004): the client is told why, in the app.
        told = (await api.get("/v1/notifications", headers=client.headers)).json()["items"]
        failed_note = next(n for n in told if n["kind"] == "payment.failed")
        assert failed_note["data"]["reason"] == "customer_cancelled"
        assert "You cancelled the M-Pesa prompt." in failed_note["body"]

        retry = await pay(api, booking["id"], client)
        assert retry.status_code == 201, retry.text
        assert retry.json()["attempt_number"] == 2
        assert gateway.creates[-1].headers["Idempotency-Key"].endswith(f"{booking['id']}:2")
        await deliver(api, gateway.paid(gateway.last_payment()["id"], receipt="SGH5RETRY1"))

        seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=therapist.headers)).json()
        assert seen["status"] == "confirmed"
        assert seen["payment"]["receipt_number"] == "SGH5RETRY1"
        history = await api.get(f"/v1/bookings/{booking['id']}/payments", headers=client.headers)
        assert [a["status"] for a in history.json()] == ["cancelled", "paid"]

    async def test_a_second_attempt_is_refused_while_one_is_open(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        first = (await pay(api, booking["id"], client)).json()

        again = await pay(api, booking["id"], client)

        assert again.status_code == 409
        assert again.json()["error"] == "PaymentInProgress"
        assert first["id"] in again.json()["detail"]
        assert len(gateway.creates) == 1

    async def test_a_paid_booking_cannot_be_paid_again(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        await pay(api, booking["id"], client)
        await deliver(api, gateway.paid(gateway.last_payment()["id"]))

        again = await pay(api, booking["id"], client)

        assert again.status_code == 409
        assert "already paid" in again.json()["detail"]
        assert len(gateway.creates) == 1

    async def test_a_push_daraja_rejected_at_once_is_a_failed_attempt_that_can_be_retried(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        gateway.initial_status = "failed"

        attempt = (await pay(api, booking["id"], client)).json()

        assert attempt["status"] == "failed"
        assert attempt["can_retry"] is True
        gateway.initial_status = "sent"
        assert (await pay(api, booking["id"], client)).status_code == 201


class TestGatewayTrouble:
    @pytest.mark.parametrize(
        "outage",
        [
            httpx.ConnectError("connection refused"),
            httpx.ReadTimeout("no answer"),
            httpx.Response(502, text="<html>Bad Gateway</html>"),
            httpx.Response(401, json={"error": "Unauthorized", "detail": "bad key"}),
        ],
        ids=["unreachable", "timeout", "5xx", "our key refused"],
    )
    async def test_answers_503_with_retry_after_and_leaves_nothing_half_made(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
        outage: Exception | httpx.Response,
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        gateway.outage = outage

        response = await pay(api, booking["id"], client)

        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert response.json()["error"] == "PaymentsUnavailable"
        assert "nothing was charged" in response.json()["detail"]
        assert await attempt_count(db_session) == 0
        seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)).json()
        assert (seen["status"], seen["payment"]["status"]) == ("approved", "unpaid")

    async def test_the_gateway_retry_after_is_passed_on(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        gateway.outage = httpx.Response(
            429, headers={"Retry-After": "7"}, json={"error": "RateLimited", "detail": "slow"}
        )

        response = await pay(api, booking["id"], client)

        assert response.status_code == 503
        assert response.headers["Retry-After"] == "7"

    async def test_a_retry_after_an_outage_reuses_the_idempotency_key(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        gateway.outage = httpx.ReadTimeout("the answer was lost")
        await pay(api, booking["id"], client)
        gateway.outage = None

        response = await pay(api, booking["id"], client)

        assert response.status_code == 201
        keys = [request.headers["Idempotency-Key"] for request in gateway.creates]
        assert keys == [f"session-api:booking:{booking['id']}:1"] * 2

    async def test_a_refusal_by_the_gateway_is_reported_with_its_reason(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        gateway.outage = httpx.Response(
            422,
            json={"error": "AmountOutOfRange", "detail": "amount: 1 to 150000 KES accepted"},
        )

        response = await pay(api, booking["id"], client)

        assert response.status_code == 400
        assert response.json()["error"] == "PaymentRejected"
        assert "1 to 150000 KES" in response.json()["detail"]

    @pytest.mark.parametrize(
        ("error", "said"),
        [("DuplicatePayment", "twice within 2 minutes"), ("PhoneBusy", "prompt waiting")],
    )
    async def test_a_busy_phone_is_409_with_the_gateway_retry_after(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        error: str,
        said: str,
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        gateway.outage = httpx.Response(
            409,
            headers={"Retry-After": "95"},
            json={"error": error, "detail": "phone 254*****5678 is busy with pay_0ther0wner"},
        )

        response = await pay(api, booking["id"], client)

        assert response.status_code == 409
        assert response.json()["error"] == "PaymentBlocked"
        assert said in response.json()["detail"]
        assert response.headers["Retry-After"] == "95"

    async def test_a_409_never_shows_the_gateways_words_about_another_payment(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        # The phone may be busy with someone else's payment: nothing of it reaches this payer.
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        other = "3f2c9a4e-0000-4000-8000-0123456789ab"
        gateway.outage = httpx.Response(
            409,
            json={
                "error": "PhoneBusy",
                "detail": f"254*****5678 already has an open payment ({other})",
            },
        )

        response = await pay(api, booking["id"], client)

        assert response.status_code == 409
        assert other not in response.text
        assert "254*****5678" not in response.text

    @pytest.mark.parametrize(
        ("status", "error"), [(409, "IdempotencyKeyInUse"), (422, "IdempotencyKeyReused")]
    )
    async def test_an_idempotency_conflict_means_a_payment_is_already_under_way(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        status: int,
        error: str,
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        gateway.outage = httpx.Response(status, json={"error": error, "detail": "key in use"})

        response = await pay(api, booking["id"], client)

        assert response.status_code == 409
        assert response.json()["error"] == "PaymentInProgress"


class TestVisibility:
    async def test_someone_elses_attempt_is_not_found(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        therapist = await account(role=UserRole.therapist)
        stranger = await account()
        other_therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        attempt = (await pay(api, booking["id"], client)).json()

        for outsider in (stranger, other_therapist):
            response = await api.get(f"/v1/payments/{attempt['id']}", headers=outsider.headers)
            assert response.status_code == 404
        assert (
            await api.get(f"/v1/payments/{attempt['id']}", headers=therapist.headers)
        ).status_code == 200
        assert (
            await api.get(f"/v1/payments/{uuid.uuid4()}", headers=client.headers)
        ).status_code == 404

    async def test_unauthenticated_is_401(self, api: httpx.AsyncClient) -> None:
        response = await api.get(f"/v1/payments/{uuid.uuid4()}")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


class TestHistory:
    async def test_lists_my_attempts_with_filters_and_pages(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        stranger = await account()
        therapist = await account(role=UserRole.therapist)
        for days in (2, 3, 4):
            booking = await approved_booking(api, client, therapist, days=days)
            await pay(api, booking["id"], client)
            await deliver(api, gateway.cancelled(gateway.last_payment()["id"]))
        booking = await approved_booking(api, client, therapist, days=5)
        await pay(api, booking["id"], client)

        everything = (await api.get("/v1/payments", headers=client.headers)).json()
        cancelled = await api.get(
            "/v1/payments", params={"status": "cancelled", "page_size": 2}, headers=client.headers
        )
        second_page = await api.get(
            "/v1/payments",
            params={"status": "cancelled", "page_size": 2, "page": 2},
            headers=client.headers,
        )
        deposits = await api.get(
            "/v1/payments", params={"payable_type": "deposit"}, headers=client.headers
        )

        assert everything["total"] == 4
        assert cancelled.json()["total"] == 3
        assert len(cancelled.json()["items"]) == 2
        assert len(second_page.json()["items"]) == 1
        assert {a["status"] for a in cancelled.json()["items"]} == {"cancelled"}
        assert deposits.json()["total"] == 0
        assert (await api.get("/v1/payments", headers=stranger.headers)).json()["total"] == 0
