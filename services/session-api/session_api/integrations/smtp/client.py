from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Literal

import aiosmtplib

from session_api.integrations.delivery_errors import DeliveryError


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None
    message_id: str
    attachments: list[Attachment] = field(default_factory=list)


class Mailer:
    """One SMTP server, its security and credentials; a connection per message (notifications
    are few and a long-lived connection would need its own keep-alive and recovery)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: Literal["none", "starttls", "tls"],
        username: str | None,
        password: str | None,
        timeout_s: float,
        sender_name: str,
        sender_address: str,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.timeout_s = timeout_s
        self.sender_name = sender_name
        self.sender_address = sender_address

    def build(self, email: OutgoingEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr((self.sender_name, self.sender_address))
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = email.message_id
        message.set_content(email.text)
        if email.html is not None:
            message.add_alternative(email.html, subtype="html")
        for attachment in email.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
            )
        return message

    async def send(self, email: OutgoingEmail) -> str:
        """Hand the message to the server; returns the server's answer."""
        try:
            _, response = await aiosmtplib.send(
                self.build(email),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.security == "tls",
                start_tls=self.security == "starttls",
                timeout=self.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            refusal = e.recipients[0]
            raise DeliveryError(
                f"recipient refused: SMTP {refusal.code} {refusal.message}", permanent=True
            ) from e
        except aiosmtplib.SMTPResponseException as e:
            # 5xx is the server's final word on this message; 4xx is "try again later".
            raise DeliveryError(f"SMTP {e.code}: {e.message}", permanent=e.code >= 500) from e
        except (aiosmtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"SMTP unavailable: {type(e).__name__}", permanent=False) from e
        return response
