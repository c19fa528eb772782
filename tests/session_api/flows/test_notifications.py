"""Notifications through real protocols: emails through the simulator's SMTP server, SMS through
its Africa's Talking endpoint with delivery reports, PDF receipts parsed back."""

from __future__ import annotations

import asyncio
import io
import json
import re
import uuid
from typing import Any

import httpx
from pypdf import PdfReader

from session_api.models import DeliveryStatus, UserRole
from session_api.notification import service as notification_service
from session_api.product import service as product_service
from tests.session_api.fixtures import Account, future
from tests.session_api.flows.flow import Flow, phone, until
from tests.session_api.flows.test_flows import approved_booking, pay


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def paid_booking(flow: Flow, client: Account, therapist: Account) -> dict[str, Any]:
    booking = await approved_booking(flow, client, therapist)
    attempt = await pay(flow, f"/v1/bookings/{booking['id']}/pay", client, phone())
    await flow.settled(attempt["id"], client)
    return await flow.attempt(attempt["id"], client)


class TestEmail:
    async def test_approval_email_gives_the_amount_a_pay_link_and_the_paybill_fallback(
        self, flow: Flow
    ) -> None:
        client = await flow.account(name="Achieng Otieno")
        therapist = await flow.account(UserRole.therapist, rate=3_750)
        booking = await approved_booking(flow, client, therapist)

        email = await flow.email(client.user.email, "Session approved: pay to confirm")

        reference = f"BK{booking['id'].replace('-', '')[:10].upper()}"
        settings = flow.settings
        for body in (email["text"], email["html"]):
            assert "KES 3,750" in body
            assert f"{settings.PUBLIC_URL}/bookings/{booking['id']}/pay" in body
            assert settings.BUSINESS_PAYBILL in body
            assert reference in body
        assert "Hello Achieng Otieno" in email["text"]
        assert settings.BUSINESS_NAME in email["subject"]
        assert settings.BUSINESS_NAME in email["sender"] or settings.MAIL_FROM in email["sender"]
        # The therapist heard of the request by email too, and nobody twice.
        request = await flow.email(therapist.user.email, "New session request")
        assert "Achieng Otieno asked for" in request["text"]

    async def test_confirmation_email_carries_the_receipt_pdf_and_the_therapist_is_told(
        self, flow: Flow
    ) -> None:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist, rate=2_500)
        paid = await paid_booking(flow, client, therapist)
        receipt = paid["receipt_number"]

        email = await flow.email(client.user.email, "Session confirmed")
        (attachment,) = email["attachments"]
        pdf = await flow.simulator.get(attachment["url"])
        text = pdf_text(pdf.content)

        assert receipt in email["text"]
        assert (attachment["filename"], attachment["content_type"]) == (
            f"receipt-{receipt}.pdf",
            "application/pdf",
        )
        assert receipt in text
        assert "KES 2,500" in text
        assert "TEST MODE" in text
        assert flow.settings.BUSINESS_PAYBILL in text
        assert paid["phone"] in text
        notes = (await flow.api.get("/v1/notifications", headers=therapist.headers)).json()
        assert "Session paid" in [n["title"] for n in notes["items"]]
        told = await flow.email(therapist.user.email, "Session paid")
        assert "is paid" in told["text"]
        assert told["attachments"] == []

    async def test_a_declined_request_is_mailed_with_the_reason(self, flow: Flow) -> None:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist)
        created = await flow.api.post(
            "/v1/bookings",
            json={
                "therapist_id": therapist.id,
                "scheduled_at": future(),
                "session_type": "couples",
            },
            headers=client.headers,
        )
        assert created.status_code == 201, created.text
        declined = await flow.api.post(
            f"/v1/bookings/{created.json()['id']}/decline",
            json={"reason": "I am away that week"},
            headers=therapist.headers,
        )
        assert declined.status_code == 200, declined.text

        email = await flow.email(client.user.email, "Session request declined")

        assert "Reason: I am away that week" in email["text"]
        assert "Nothing was charged" in email["html"]

    async def test_a_failed_payment_tells_the_client_why_and_how_to_retry(self, flow: Flow) -> None:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist)
        booking = await approved_booking(flow, client, therapist)
        attempt = await pay(flow, f"/v1/bookings/{booking['id']}/pay", client, phone("001"))
        await flow.settled(attempt["id"], client)

        notes = (await flow.api.get("/v1/notifications", headers=client.headers)).json()
        (failed,) = [n for n in notes["items"] if n["kind"] == "payment.failed"]

        assert failed["data"]["reason"] == "customer_cancelled"
        assert "you can pay again" in failed["body"]

    async def test_no_phone_number_appears_unmasked_in_any_email(self, flow: Flow) -> None:
        client = await flow.account(phone=f"254{phone()[1:]}")
        therapist = await flow.account(UserRole.therapist, phone=f"254{phone()[1:]}")
        await paid_booking(flow, client, therapist)
        await flow.email(client.user.email, "Session confirmed")
        await flow.email(therapist.user.email, "Session paid")

        texts = []
        for who in (client, therapist):
            for email in await flow.emails(who.user.email):
                texts += [email["subject"], email["text"], email["html"] or ""]
                for attachment in email["attachments"]:
                    texts.append(pdf_text((await flow.simulator.get(attachment["url"])).content))

        assert len(texts) >= 9
        assert not re.findall(r"(?:\+?254|\b0)[17]\d{8}", "\n".join(texts))
        assert any("*****" in text for text in texts)

    async def test_the_receipt_goes_even_with_every_topic_turned_off(self, flow: Flow) -> None:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist)
        off = [{"topic": t, "email": False, "sms": False} for t in ("bookings", "orders")]
        turned = await flow.api.put(
            "/v1/notifications/preferences", json={"topics": off}, headers=client.headers
        )
        assert turned.status_code == 200, turned.text

        paid = await paid_booking(flow, client, therapist)
        email = await flow.email(client.user.email, "Session confirmed")

        assert paid["receipt_number"] in email["text"]
        assert [e["subject"].split(" · ")[0] for e in await flow.emails(client.user.email)] == [
            "Session confirmed"
        ]

    async def test_an_order_is_confirmed_with_its_receipt_staff_are_told_and_progress_mailed(
        self, flow: Flow
    ) -> None:
        customer = await flow.account()
        staff = await flow.account(UserRole.admin)
        sku = f"MAT-{uuid.uuid4().hex[:6]}"
        async with flow.session_api.state.sessionmaker() as session, session.begin():
            await product_service.ensure_product(
                session, sku=sku, name="Yoga mat", description="", price=2_100
            )
        products = (await flow.api.get("/v1/products", params={"page_size": 100})).json()
        (product,) = [p for p in products["items"] if p["sku"] == sku]
        order = await flow.api.post(
            "/v1/orders",
            json={
                "items": [{"product_id": product["id"], "quantity": 1}],
                "delivery": {"method": "pickup"},
                "customer": {"name": "Amina", "phone": "0712345678"},
            },
            headers=customer.headers,
        )
        assert order.status_code == 201, order.text
        attempt = await pay(flow, f"/v1/orders/{order.json()['id']}/pay", customer, phone())
        paid = await flow.settled(attempt["id"], customer)

        confirmation = await flow.email(customer.user.email, "Order paid")
        told = await flow.email(staff.user.email, "New paid order")

        assert paid["receipt_number"] in confirmation["text"]
        assert [a["content_type"] for a in confirmation["attachments"]] == ["application/pdf"]
        advanced = await flow.api.post(
            f"/v1/admin/orders/{order.json()['id']}/status",
            json={"status": "processing"},
            headers=staff.headers,
        )
        progress = await flow.email(customer.user.email, "Order processing")

        assert "KES 2,100" in told["text"]
        assert advanced.status_code == 200, advanced.text
        assert "is now processing" in progress["text"]
        # The customer's phone from the order form is in no email.
        assert "0712345678" not in confirmation["text"] + told["text"] + progress["text"]


class TestInApp:
    async def test_the_therapist_hears_of_the_payment_live_on_the_stream(self, flow: Flow) -> None:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist, rate=2_000)
        booking = await approved_booking(flow, client, therapist)
        heard: list[dict[str, Any]] = []

        async def listen() -> None:
            async with flow.api.stream(
                "GET", "/v1/notifications/stream", headers=therapist.headers
            ) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        heard.append(json.loads(line.removeprefix("data: ")))
                        if heard[-1]["kind"] == "booking.paid":
                            return

        listener = asyncio.create_task(listen())
        redis = flow.session_api.state.redis
        topic = notification_service.stream_channel(therapist.user.id)

        async def subscribed() -> bool:
            counts = await redis.pubsub_numsub(topic)
            return bool(counts and counts[0][1] > 0)

        await until(subscribed, what="the stream to subscribe")
        attempt = await pay(flow, f"/v1/bookings/{booking['id']}/pay", client, phone())
        await asyncio.wait_for(listener, timeout=15)
        paid = await flow.settled(attempt["id"], client)

        assert heard[-1]["title"] == "Session paid"
        assert heard[-1]["data"]["booking_id"] == booking["id"]
        assert paid["status"] == "paid"


class TestReceipt:
    async def test_the_payer_and_the_therapist_get_the_pdf_and_no_one_else(
        self, flow: Flow
    ) -> None:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist, rate=1_500)
        stranger = await flow.account()
        paid = await paid_booking(flow, client, therapist)
        path = f"/v1/payments/{paid['id']}/receipt.pdf"

        answers = {
            who: await flow.api.get(path, headers=account.headers)
            for who, account in (("client", client), ("therapist", therapist), ("other", stranger))
        }

        assert answers["client"].headers["content-type"] == "application/pdf"
        assert paid["receipt_number"] in pdf_text(answers["client"].content)
        assert answers["therapist"].status_code == 200
        assert answers["other"].status_code == 404

    async def test_an_unpaid_attempt_has_no_receipt(self, flow: Flow) -> None:
        client = await flow.account()
        therapist = await flow.account(UserRole.therapist)
        booking = await approved_booking(flow, client, therapist)
        attempt = await pay(flow, f"/v1/bookings/{booking['id']}/pay", client, phone("001"))
        await flow.settled(attempt["id"], client)

        response = await flow.api.get(
            f"/v1/payments/{attempt['id']}/receipt.pdf", headers=client.headers
        )

        assert response.status_code == 409
        assert "only for a paid one" in response.json()["detail"]


class TestSms:
    async def test_a_deposit_is_announced_by_sms_and_its_delivery_report_recorded(
        self, flow: Flow
    ) -> None:
        number = phone()
        client = await flow.account(phone=f"254{number[1:]}")
        created = await flow.api.post(
            "/v1/wallet/deposits", json={"amount": 700, "phone": number}, headers=client.headers
        )
        assert created.status_code == 201, created.text
        await flow.settled(created.json()["attempt"]["id"], client)

        async def delivered() -> list[Any] | None:
            rows = [d for d in await flow.deliveries(client.id) if d.kind == "deposit.credited"]
            return rows if rows and rows[0].status is DeliveryStatus.delivered else None

        (row,) = await until(delivered, what="the SMS delivery report")
        (sms,) = await flow.sms(f"+254{number[1:]}")

        assert "KES 700" in sms["message"]
        assert sms["id"] == row.provider_message_id
        assert row.delivered_at is not None

    async def test_an_sms_that_fails_at_delivery_goes_by_email(self, flow: Flow) -> None:
        number = phone()
        await flow.simulator.put(
            "/simulator/sms/failures", json={"phone": f"+254{number[1:]}", "at": "delivery"}
        )
        client = await flow.account(phone=f"254{number[1:]}")
        created = await flow.api.post(
            "/v1/wallet/deposits", json={"amount": 450, "phone": number}, headers=client.headers
        )
        assert created.status_code == 201, created.text

        email = await flow.email(client.user.email, "Deposit received")

        async def recorded() -> set[tuple[str, str]] | None:
            rows = {(d.channel.value, d.status.value) for d in await flow.deliveries(client.id)}
            return rows if ("email", "sent") in rows else None

        rows = await until(recorded, what="the fallback email recorded as sent")
        assert "KES 450" in email["text"]
        assert ("sms", "failed") in rows

    async def test_an_sms_refused_when_sent_goes_by_email_at_once(self, flow: Flow) -> None:
        number = phone()
        await flow.simulator.put(
            "/simulator/sms/failures", json={"phone": f"+254{number[1:]}", "at": "send"}
        )
        client = await flow.account(phone=f"254{number[1:]}")
        created = await flow.api.post(
            "/v1/wallet/deposits", json={"amount": 300, "phone": number}, headers=client.headers
        )
        assert created.status_code == 201, created.text

        await flow.email(client.user.email, "Deposit received")
        (sms_row,) = [d for d in await flow.deliveries(client.id) if d.channel.value == "sms"]
        # The SMS row was recorded failed before its fallback email row was written.

        assert sms_row.status is DeliveryStatus.failed
        assert sms_row.attempts == 1
        assert "403" in (sms_row.reason or "")

    async def test_a_delivery_report_needs_our_token_and_its_fields(self, flow: Flow) -> None:
        token = flow.settings.SMS_REPORT_TOKEN.get_secret_value()

        wrong = await report(flow.api, "not-the-token", {"id": "ATXid_1", "status": "Success"})
        malformed = await report(flow.api, token, {"status": "Success"})
        unknown = await report(flow.api, token, {"id": "ATXid_unknown", "status": "Success"})

        assert wrong.status_code == 404
        assert malformed.status_code == 400
        assert "id (the messageId)" in malformed.json()["detail"]
        assert unknown.json() == {"known": False, "status": None}


async def report(api: httpx.AsyncClient, token: str, form: dict[str, str]) -> httpx.Response:
    return await api.post(f"/v1/notifications/sms/reports/{token}", data=form)
