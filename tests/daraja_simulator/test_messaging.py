"""The simulator as mail server and SMS provider: a real SMTP server keeping what it is sent
(one copy per Message-ID), Africa's Talking's send endpoint, failures on demand, the mailbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
import pytest

from daraja_simulator.config import Settings
from daraja_simulator.main import create_app
from daraja_simulator.testing import FAST


@asynccontextmanager
async def simulator(**overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, int]]:
    """The simulator's API in-process and the port its SMTP server took."""
    app = create_app(Settings(**{**FAST, "SMS_DELIVERY_REPORT_URL": None, **overrides}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            yield client, app.state.smtp_port


def message(message_id: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = "Tiba Therapy <notifications@tiba.example>"
    email["To"] = "amina@example.com"
    email["Subject"] = "Session confirmed"
    email["Message-ID"] = message_id
    email.set_content("Your session is confirmed.")
    email.add_alternative("<p>Your session is <b>confirmed</b>.</p>", subtype="html")
    email.add_attachment(
        b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="receipt.pdf"
    )
    return email


class TestMailServer:
    async def test_an_email_is_kept_with_its_parts_and_its_attachment_downloadable(self) -> None:
        async with simulator() as (api, port):
            await aiosmtplib.send(message("<one@tiba.example>"), hostname="127.0.0.1", port=port)
            (email,) = (await api.get("/simulator/emails")).json()["emails"]
            attachment = await api.get(email["attachments"][0]["url"])
            html = await api.get(f"/simulator/emails/{email['id']}/html")

        assert email["recipients"] == ["amina@example.com"]
        assert email["subject"] == "Session confirmed"
        assert email["text"].strip() == "Your session is confirmed."
        assert "<b>confirmed</b>" in email["html"]
        assert email["attachments"][0]["content_type"] == "application/pdf"
        assert attachment.content == b"%PDF-1.4 receipt"
        assert "default-src 'none'" in html.headers["content-security-policy"]

    async def test_a_resent_message_id_is_accepted_and_kept_once(self) -> None:
        async with simulator() as (api, port):
            for _ in range(2):
                await aiosmtplib.send(
                    message("<same@tiba.example>"), hostname="127.0.0.1", port=port
                )
            await aiosmtplib.send(message("<other@tiba.example>"), hostname="127.0.0.1", port=port)
            emails = (await api.get("/simulator/emails")).json()["emails"]
            cleared = await api.delete("/simulator/emails")
            after = (await api.get("/simulator/emails")).json()["emails"]

        assert [e["message_id"] for e in emails] == ["<other@tiba.example>", "<same@tiba.example>"]
        assert cleared.status_code == 204
        assert after == []

    async def test_credentials_are_required_when_configured(self) -> None:
        async with simulator(SMTP_USERNAME="mailer", SMTP_PASSWORD="s3cret") as (api, port):
            with pytest.raises(aiosmtplib.SMTPException):
                await aiosmtplib.send(message("<x@tiba.example>"), hostname="127.0.0.1", port=port)
            await aiosmtplib.send(
                message("<y@tiba.example>"),
                hostname="127.0.0.1",
                port=port,
                username="mailer",
                password="s3cret",
            )
            emails = (await api.get("/simulator/emails")).json()["emails"]

        assert [e["message_id"] for e in emails] == ["<y@tiba.example>"]

    async def test_the_mailbox_page_is_served(self) -> None:
        async with simulator() as (api, _):
            page = await api.get("/mailbox")

        assert page.status_code == 200
        assert "Simulator mailbox" in page.text


def send_form(to: str, text: str = "Hello") -> dict[str, str]:
    return {"username": "sandbox", "to": to, "message": text, "from": "TIBA"}


API_KEY = {"apiKey": "test-at-api-key"}


class TestSmsProvider:
    async def test_sending_answers_like_africas_talking(self) -> None:
        async with simulator() as (api, _):
            response = await api.post(
                "/version1/messaging", data=send_form("+254712000001"), headers=API_KEY
            )
            (kept,) = (await api.get("/simulator/sms", params={"to": "+254712000001"})).json()[
                "messages"
            ]

        body = response.json()["SMSMessageData"]
        (recipient,) = body["Recipients"]
        assert response.status_code == 201
        assert body["Message"] == "Sent to 1/1 Total Cost: KES 0.8000"
        assert (recipient["statusCode"], recipient["status"]) == (101, "Success")
        assert recipient["messageId"] == kept["id"]
        assert (kept["message"], kept["sender_id"]) == ("Hello", "TIBA")

    async def test_a_wrong_key_is_a_401(self) -> None:
        async with simulator() as (api, _):
            response = await api.post(
                "/version1/messaging", data=send_form("+254712000002"), headers={"apiKey": "no"}
            )

        assert response.status_code == 401
        assert response.text == "The supplied authentication is invalid"

    async def test_a_number_set_to_fail_at_send_is_refused(self) -> None:
        async with simulator() as (api, _):
            await api.put("/simulator/sms/failures", json={"phone": "+254712000003", "at": "send"})
            response = await api.post(
                "/version1/messaging", data=send_form("+254712000003"), headers=API_KEY
            )
            bad = await api.put("/simulator/sms/failures", json={"phone": "0712", "at": "send"})

        (recipient,) = response.json()["SMSMessageData"]["Recipients"]
        assert (recipient["statusCode"], recipient["status"]) == (403, "InvalidPhoneNumber")
        assert bad.status_code == 422
