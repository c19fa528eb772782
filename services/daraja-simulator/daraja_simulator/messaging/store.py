"""What the simulated mail server and SMS provider received, newest first, in memory."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from enum import StrEnum

import httpx
import structlog

log = structlog.get_logger(__name__)


@dataclass
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Email:
    id: str
    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    text: str
    html: str | None
    attachments: list[Attachment]
    received_at: datetime


def parse_email(raw: bytes, *, sender: str, recipients: list[str]) -> Email:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    attachments = [
        Attachment(
            filename=part.get_filename() or "attachment",
            content_type=part.get_content_type(),
            content=part.get_payload(decode=True) or b"",  # type: ignore[arg-type]
        )
        for part in message.iter_attachments()
        if isinstance(part, EmailMessage)
    ]
    return Email(
        id=uuid.uuid4().hex,
        message_id=str(message.get("Message-ID", "")).strip(),
        sender=sender,
        recipients=recipients,
        subject=str(message.get("Subject", "")),
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else None,
        attachments=attachments,
        received_at=datetime.now(UTC),
    )


class Mailbox:
    """Every email the SMTP server accepted. A message whose Message-ID was already received is
    accepted again but kept once, as a receiving system that deduplicates on it does."""

    def __init__(self, limit: int) -> None:
        self.emails: deque[Email] = deque(maxlen=limit)
        self.rejected: set[str] = set()

    def add(self, email: Email) -> bool:
        if email.message_id and any(e.message_id == email.message_id for e in self.emails):
            return False
        self.emails.appendleft(email)
        return True

    def get(self, email_id: str) -> Email | None:
        return next((e for e in self.emails if e.id == email_id), None)

    def clear(self) -> None:
        self.emails.clear()


class FailAt(StrEnum):
    """Where a number's SMS fails: refused when sent (status 403), or accepted and then reported
    `Failed` by the delivery report."""

    send = "send"
    delivery = "delivery"


@dataclass
class Sms:
    id: str
    username: str
    sender_id: str | None
    to: str
    message: str
    status_code: int
    status: str
    delivery_status: str | None
    failure_reason: str | None
    sent_at: datetime


@dataclass
class SmsCenter:
    """Africa's Talking's side: messages taken, delivery reports posted back."""

    limit: int
    report_url: str | None
    report_delay_s: float
    messages: deque[Sms] = field(init=False)
    failing: dict[str, FailAt] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.messages = deque(maxlen=self.limit)

    def take(self, *, username: str, sender_id: str | None, to: str, message: str) -> Sms:
        fail = self.failing.get(to)
        refused = fail is FailAt.send
        sms = Sms(
            id=f"ATXid_{uuid.uuid4().hex}",
            username=username,
            sender_id=sender_id,
            to=to,
            message=message,
            status_code=403 if refused else 101,
            status="InvalidPhoneNumber" if refused else "Success",
            delivery_status=None,
            failure_reason=None,
            sent_at=datetime.now(UTC),
        )
        self.messages.appendleft(sms)
        if not refused and self.report_url:
            task = asyncio.get_running_loop().create_task(
                self._report(sms, failed=fail is FailAt.delivery)
            )
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return sms

    async def _report(self, sms: Sms, *, failed: bool) -> None:
        await asyncio.sleep(self.report_delay_s)
        sms.delivery_status = "Failed" if failed else "Success"
        sms.failure_reason = "DeliveryFailure" if failed else None
        form = {
            "id": sms.id,
            "status": sms.delivery_status,
            "phoneNumber": sms.to,
            "networkCode": "63902",
        }
        if sms.failure_reason:
            form["failureReason"] = sms.failure_reason
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                await http.post(str(self.report_url), data=form)
        except httpx.HTTPError:
            log.warning("sms_delivery_report_failed", message_id=sms.id, exc_info=True)

    def clear(self) -> None:
        self.messages.clear()

    async def cancel_tasks(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
