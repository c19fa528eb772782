"""The one payment flow of every payable: commit, then call the gateway, then record."""

import asyncio
import uuid

import httpx

from session_api.integrations.gateway import CreatePaymentRequest
from session_api.models import UserRole
from tests.session_api.fixtures import PHONE, FakeGateway, MakeAccount, approved_booking, deliver


class TestPay:
    async def test_two_pays_at_once_for_one_booking_make_one_payment(
        self, live_api: httpx.AsyncClient, live_account: MakeAccount, gateway: FakeGateway
    ) -> None:
        # No lock is held while the gateway answers: the two requests either share the attempt
        # (same Idempotency-Key, so one gateway payment) or the later one is refused.
        client = await live_account()
        therapist = await live_account(role=UserRole.therapist)
        booking = await approved_booking(live_api, client, therapist)

        responses = await asyncio.gather(
            *(
                live_api.post(
                    f"/v1/bookings/{booking['id']}/pay",
                    json={"phone": PHONE},
                    headers=client.headers,
                )
                for _ in range(2)
            )
        )

        assert sorted(r.status_code for r in responses) in ([201, 201], [201, 409])
        assert len(gateway.payments) == 1
        attempts = await live_api.get(
            f"/v1/bookings/{booking['id']}/payments", headers=client.headers
        )
        assert [a["attempt_number"] for a in attempts.json()] == [1]
        created = {r.json()["id"] for r in responses if r.status_code == 201}
        assert created == {attempts.json()[0]["id"]}

    async def test_a_refused_payment_leaves_nothing_behind(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        gateway.outage = httpx.ConnectError("gateway down")

        response = await api.post(
            "/v1/wallet/deposits", json={"amount": 500, "phone": PHONE}, headers=client.headers
        )

        assert response.status_code == 503
        deposits = (await api.get("/v1/wallet/transactions", headers=client.headers)).json()
        assert deposits["total"] == 0


class TestAdoption:
    async def test_an_event_for_a_deposit_never_recorded_makes_and_credits_it(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        # The request died after the gateway answered: the payment is the deposit's only record.
        client = await account()
        deposit_id = uuid.uuid4()
        payment = await gateway.client().create_payment(
            CreatePaymentRequest(
                amount=800,
                phone="254712345678",
                account_reference="WL1",
                description="Wallet top-up",
                metadata={
                    "payable_type": "deposit",
                    "payable_id": str(deposit_id),
                    "user_id": client.id,
                    "attempt_number": 1,
                },
            ),
            idempotency_key=f"session-api:deposit:{deposit_id}:1",
        )

        delivered = await deliver(api, gateway.paid(payment.id, receipt="SGHADOPT02"))

        assert delivered.json()["outcome"] == "applied"
        deposit = (
            await api.get(f"/v1/wallet/deposits/{deposit_id}", headers=client.headers)
        ).json()
        assert (deposit["status"], deposit["amount"]) == ("paid", 800)
        wallet = (await api.get("/v1/wallet", headers=client.headers)).json()
        assert wallet["balance"] == 800
