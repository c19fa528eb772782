import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.integrations.gateway import CreatePaymentRequest
from session_api.models import GatewayEvent, UserRole
from shared.webhook_signing import DEV_WEBHOOK_SECRET, sign
from tests.session_api.fixtures import (
    PHONE,
    Account,
    FakeGateway,
    MakeAccount,
    approved_booking,
    deliver,
    signed,
)


async def paying_booking(
    api: httpx.AsyncClient, account: MakeAccount
) -> tuple[Account, Account, dict[str, Any], dict[str, Any]]:
    client = await account()
    therapist = await account(role=UserRole.therapist)
    booking = await approved_booking(api, client, therapist)
    attempt = (
        await api.post(
            f"/v1/bookings/{booking['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )
    ).json()
    return client, therapist, booking, attempt


async def status_of(api: httpx.AsyncClient, attempt: dict[str, Any], viewer: Account) -> str:
    response = await api.get(f"/v1/payments/{attempt['id']}", headers=viewer.headers)
    status: str = response.json()["status"]
    return status


async def inbox_size(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(GatewayEvent)) or 0


class TestSignature:
    @pytest.mark.parametrize(
        "tamper",
        ["wrong secret", "changed body", "old timestamp", "future timestamp", "no signature"],
    )
    async def test_an_unverifiable_event_is_401_and_changes_nothing(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
        tamper: str,
    ) -> None:
        client, _, booking, attempt = await paying_booking(api, account)
        event = gateway.paid(gateway.last_payment()["id"])
        now = int(time.time())
        if tamper == "wrong secret":
            headers, body = signed(event, secret="whsec_" + "c29tZW9uZSBlbHNl")
        elif tamper == "changed body":
            headers, body = signed(event)
            body = body.replace(b'"amount": 2500', b'"amount": 1')
        elif tamper == "old timestamp":
            headers, body = signed(event, timestamp=now - 301)
        elif tamper == "future timestamp":
            # Time passes before the check: keep well clear of the edge on this side.
            headers, body = signed(event, timestamp=now + 330)
        else:
            headers, body = signed(event)
            del headers["webhook-signature"]

        response = await api.post("/internal/payment-events", content=body, headers=headers)

        assert response.status_code == 401
        assert response.json()["error"] == "InvalidEventSignature"
        assert await status_of(api, attempt, client) == "processing"
        assert await inbox_size(db_session) == 0
        seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)).json()
        assert seen["status"] == "approved"

    async def test_a_timestamp_inside_the_window_is_accepted(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client, _, _, attempt = await paying_booking(api, account)
        event = gateway.paid(gateway.last_payment()["id"])

        response = await deliver(api, event, timestamp=int(time.time()) - 290)

        assert response.status_code == 200
        assert await status_of(api, attempt, client) == "paid"

    async def test_one_valid_signature_among_several_is_enough(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        # While the sender rotates its secret it signs with both.
        client, _, _, attempt = await paying_booking(api, account)
        headers, body = signed(gateway.paid(gateway.last_payment()["id"]))
        stale = sign(
            secret="whsec_" + "b2xkIHNlY3JldA==",
            msg_id=headers["webhook-id"],
            timestamp=int(headers["webhook-timestamp"]),
            body=body,
        )
        headers["webhook-signature"] = f"{stale} {headers['webhook-signature']}"

        response = await api.post("/internal/payment-events", content=body, headers=headers)

        assert response.status_code == 200
        assert await status_of(api, attempt, client) == "paid"

    async def test_a_signed_body_that_is_not_an_event_is_400(self, api: httpx.AsyncClient) -> None:
        body = b'{"hello": "world"}'
        now = int(time.time())
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(now),
            "webhook-signature": sign(
                secret=DEV_WEBHOOK_SECRET, msg_id="msg_1", timestamp=now, body=body
            ),
        }

        response = await api.post("/internal/payment-events", content=body, headers=headers)

        assert response.status_code == 400
        assert response.json()["error"] == "MalformedEvent"


class TestOnce:
    async def test_a_repeated_webhook_id_is_a_no_op(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
    ) -> None:
        client, _, _, _ = await paying_booking(api, account)
        event = gateway.paid(gateway.last_payment()["id"])

        first = await deliver(api, event)
        again = await deliver(api, event)

        assert first.json() == {
            "webhook_id": f"msg_{event['id']}",
            "duplicate": False,
            "outcome": "applied",
        }
        assert again.json()["duplicate"] is True
        assert await inbox_size(db_session) == 1
        notes = (await api.get("/v1/notifications", headers=client.headers)).json()["items"]
        assert [n["kind"] for n in notes].count("booking.confirmed") == 1

    async def test_an_older_sequence_is_ignored(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client, _, _, attempt = await paying_booking(api, account)
        payment_id = gateway.last_payment()["id"]
        sent = gateway.event(payment_id, "sent", sequence=1)
        paid = gateway.paid(payment_id)
        paid["sequence"] = 5
        cancelled = gateway.cancelled(payment_id)
        cancelled["sequence"] = 4

        await deliver(api, paid)
        stale = await deliver(api, cancelled)
        older = await deliver(api, sent)

        assert stale.json()["outcome"] == "stale"
        assert older.json()["outcome"] == "stale"
        assert await status_of(api, attempt, client) == "paid"

    async def test_paid_is_never_downgraded(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client, _, booking, attempt = await paying_booking(api, account)
        payment_id = gateway.last_payment()["id"]
        await deliver(api, gateway.paid(payment_id))

        response = await deliver(api, gateway.event(payment_id, "failed", reason="daraja_error"))

        assert response.json()["outcome"] == "unchanged"
        assert await status_of(api, attempt, client) == "paid"
        seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)).json()
        assert seen["status"] == "confirmed"


class TestLateProof:
    async def test_a_success_after_a_timeout_confirms_the_booking(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client, therapist, booking, attempt = await paying_booking(api, account)
        payment_id = gateway.last_payment()["id"]
        await deliver(api, gateway.event(payment_id, "timeout", reason="prompt_expired"))
        assert await status_of(api, attempt, client) == "timeout"

        response = await deliver(api, gateway.paid(payment_id, receipt="SGHLATE001"))

        assert response.json()["outcome"] == "applied"
        seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=therapist.headers)).json()
        assert seen["status"] == "confirmed"
        assert seen["payment"]["receipt_number"] == "SGHLATE001"

    async def test_a_late_success_for_a_booking_paid_meanwhile_goes_to_the_wallet(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client, _, booking, _ = await paying_booking(api, account)
        first_payment = gateway.last_payment()["id"]
        await deliver(api, gateway.event(first_payment, "timeout", reason="prompt_expired"))
        await api.post(
            f"/v1/bookings/{booking['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )
        await deliver(api, gateway.paid(gateway.last_payment()["id"], receipt="SGHSECOND1"))

        await deliver(api, gateway.paid(first_payment, receipt="SGHFIRST01"))

        wallet = (await api.get("/v1/wallet", headers=client.headers)).json()
        ledger = (await api.get("/v1/wallet/ledger", headers=client.headers)).json()["items"]
        seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)).json()
        assert wallet["balance"] == 2_500
        assert [(e["kind"], e["receipt_number"]) for e in ledger] == [
            ("unapplied_payment", "SGHFIRST01")
        ]
        assert seen["payment"]["receipt_number"] == "SGHSECOND1"

    async def test_an_event_for_a_payment_we_never_recorded_is_adopted(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        # Our transaction was lost after the gateway answered: the payment exists only there.
        client = await account()
        therapist = await account(role=UserRole.therapist)
        booking = await approved_booking(api, client, therapist)
        gateway.outage = None
        response = await gateway.client().create_payment(
            CreatePaymentRequest(
                amount=2_500,
                phone="254712345678",
                account_reference="BK1",
                description="Therapy",
                metadata={
                    "payable_type": "booking",
                    "payable_id": booking["id"],
                    "user_id": client.id,
                    "attempt_number": 1,
                },
            ),
            idempotency_key=f"session-api:booking:{booking['id']}:1",
        )

        delivered = await deliver(api, gateway.paid(response.id, receipt="SGHADOPT01"))

        assert delivered.json()["outcome"] == "applied"
        seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)).json()
        assert seen["status"] == "confirmed"
        history = await api.get(f"/v1/bookings/{booking['id']}/payments", headers=client.headers)
        assert [(a["attempt_number"], a["status"]) for a in history.json()] == [(1, "paid")]

    async def test_an_event_naming_nothing_we_know_is_acknowledged_as_unmatched(
        self, api: httpx.AsyncClient, gateway: FakeGateway
    ) -> None:
        gateway.payments["pay_unknown"] = {
            "id": "pay_unknown",
            "status": "sent",
            "amount": 10,
            "phone": "********5678",
            "metadata": {"payable_type": "order", "payable_id": str(uuid.uuid4())},
            "customer_message": "",
        }

        response = await deliver(api, gateway.paid("pay_unknown"))

        assert response.status_code == 200
        assert response.json()["outcome"] == "unmatched"


class TestConcurrentDeposit:
    async def test_the_same_event_three_times_at_once_credits_once(
        self,
        live_api: httpx.AsyncClient,
        live_account: MakeAccount,
        gateway: FakeGateway,
    ) -> None:
        client = await live_account()
        deposit = await live_api.post(
            "/v1/wallet/deposits", json={"amount": 1_000, "phone": PHONE}, headers=client.headers
        )
        assert deposit.status_code == 201, deposit.text
        headers, body = signed(gateway.paid(gateway.last_payment()["id"], receipt="SGHDEP0001"))

        responses = await asyncio.gather(
            *(
                live_api.post("/internal/payment-events", content=body, headers=headers)
                for _ in range(3)
            )
        )

        assert [r.status_code for r in responses] == [200, 200, 200]
        assert sorted(r.json()["duplicate"] for r in responses) == [False, True, True]
        await self._assert_credited_once(live_api, client, 1_000)

    async def test_three_deliveries_under_different_webhook_ids_credit_once(
        self,
        live_api: httpx.AsyncClient,
        live_account: MakeAccount,
        gateway: FakeGateway,
    ) -> None:
        # A sender that re-emitted the event (a new webhook-id) must not pay out twice either.
        client = await live_account()
        await live_api.post(
            "/v1/wallet/deposits", json={"amount": 750, "phone": PHONE}, headers=client.headers
        )
        event = gateway.paid(gateway.last_payment()["id"], receipt="SGHDEP0002")
        deliveries = [signed(event, webhook_id=f"msg_{n}") for n in range(3)]

        responses = await asyncio.gather(
            *(
                live_api.post("/internal/payment-events", content=body, headers=headers)
                for headers, body in deliveries
            )
        )

        assert sorted(r.json()["outcome"] for r in responses) == ["applied", "stale", "stale"]
        await self._assert_credited_once(live_api, client, 750)

    @staticmethod
    async def _assert_credited_once(api: httpx.AsyncClient, client: Account, amount: int) -> None:
        wallet = (await api.get("/v1/wallet", headers=client.headers)).json()
        ledger = (await api.get("/v1/wallet/ledger", headers=client.headers)).json()
        deposits = (await api.get("/v1/wallet/transactions", headers=client.headers)).json()
        assert wallet["balance"] == amount
        assert ledger["total"] == 1
        assert sum(entry["amount"] for entry in ledger["items"]) == wallet["balance"]
        assert deposits["items"][0]["status"] == "paid"
        assert deposits["items"][0]["credited_at"] is not None


class TestReceiptAfterSettling:
    async def test_a_receipt_that_comes_after_a_receiptless_success_is_recorded(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        # The gateway settles on a status query (no receipt there), then records the receipt
        # from the late callback without a new sequence.
        client, therapist, booking, attempt = await paying_booking(api, account)
        payment_id = gateway.last_payment()["id"]
        settled = gateway.event(payment_id, "completed", result_code="0", sequence=2)
        # The words are the gateway's: session-api shows its customer_message as it comes.
        with_receipt = gateway.event(
            payment_id,
            "completed",
            receipt_number="SGHAFTER01",
            result_code="0",
            customer_message="Payment received. M-Pesa receipt SGHAFTER01.",
            sequence=2,
        )

        first = await deliver(api, settled)
        confirmed = (
            await api.get(f"/v1/bookings/{booking['id']}", headers=therapist.headers)
        ).json()
        second = await deliver(api, with_receipt)
        again = await deliver(api, gateway.paid(payment_id, receipt="SGHAFTER01"))

        assert (first.json()["outcome"], second.json()["outcome"]) == ("applied", "applied")
        assert again.json()["outcome"] == "stale"
        assert (confirmed["status"], confirmed["payment"]["receipt_number"]) == ("confirmed", None)
        seen = (await api.get(f"/v1/bookings/{booking['id']}", headers=therapist.headers)).json()
        assert seen["payment"]["receipt_number"] == "SGHAFTER01"
        polled = (await api.get(f"/v1/payments/{attempt['id']}", headers=client.headers)).json()
        assert polled["customer_message"] == "Payment received. M-Pesa receipt SGHAFTER01."
