"""Sending the outbox: claim a row, render it, commit, send, record the outcome.

Claiming is *commit, then call out*: the row is marked `sending` (with `FOR UPDATE SKIP LOCKED`,
so two workers never take the same row) and committed before the provider is called, so no lock
is held while it answers. A worker killed during the send leaves the row `sending`; the sweep
finds it once `NOTIFY_STALE_SENDING_S` has passed. An email is then sent again with the same
Message-ID, which receiving systems (the simulator's included) use to drop the copy; an SMS is not
(Africa's Talking has no idempotency key, so the outcome is unknown): it is marked failed with that
reason and its content goes by email instead.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.config import Settings
from session_api.integrations.africastalking import SmsClient
from session_api.integrations.delivery_errors import DeliveryError
from session_api.integrations.smtp import Attachment, Mailer, OutgoingEmail
from session_api.models import Channel, DeliveryStatus, NotificationDelivery, User
from session_api.notification import service as notification_service
from session_api.notification.content import Message, Sender, render_email, render_sms
from session_api.notification.exceptions import MalformedReport, UnknownReportToken
from session_api.notification.repository import DeliveryRepository
from session_api.notification.schemas import DeliveryReportReceipt
from shared import db
from shared.jobs import enqueue_after_commit
from shared.worker import backoff_seconds

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ReceiptFile:
    """A paid attempt's receipt number and PDF, for the email that confirms the payment."""

    number: str
    attachment: Attachment


# The receipt of an attempt, or None while it has no receipt number yet.
ReceiptMaker = Callable[[AsyncSession, uuid.UUID], Awaitable[ReceiptFile | None]]
INTERRUPTED = "interrupted while sending; the provider's answer is unknown"


@dataclass
class Providers:
    """What the worker sends through, built once at its start."""

    mailer: Mailer
    sms: SmsClient
    sender: Sender
    receipt: ReceiptMaker | None = None


async def deliver(
    session: AsyncSession,
    *,
    delivery_id: uuid.UUID,
    providers: Providers,
    settings: Settings,
    now: datetime | None = None,
) -> DeliveryStatus | None:
    """Send one queued delivery; its new status, or None when it was not ours to send."""
    now = now or datetime.now(UTC)
    repository = DeliveryRepository.from_session(session)
    delivery = await repository.claim(delivery_id, now=now)
    if delivery is None:
        return None
    try:
        receipt = await _receipt(session, delivery, providers, settings=settings)
    except DeliveryError as e:
        await _failed(session, delivery, e, settings=settings, now=now)
        return delivery.status
    try:
        _render(delivery, providers.sender, receipt)
    except Exception as e:
        # A template that cannot render this content never will: give up now, not every minute.
        log.exception("notification_render_failed", delivery_id=str(delivery.id))
        await fail_for_good(session, delivery, reason=f"cannot render: {type(e).__name__}", now=now)
        return delivery.status
    attachments = [receipt.attachment] if receipt is not None else []
    await db.commit(session)
    try:
        delivery.provider_message_id = await _send(delivery, providers, attachments)
    except DeliveryError as e:
        await _failed(session, delivery, e, settings=settings, now=datetime.now(UTC))
    else:
        delivery.status = DeliveryStatus.sent
        delivery.sent_at = datetime.now(UTC)
        delivery.reason = None
    delivery.updated_at = datetime.now(UTC)
    log.info(
        "notification_delivery",
        delivery_id=str(delivery.id),
        channel=delivery.channel.value,
        kind=delivery.kind,
        status=delivery.status.value,
        attempts=delivery.attempts,
    )
    return delivery.status


def _render(delivery: NotificationDelivery, sender: Sender, receipt: ReceiptFile | None) -> None:
    message = Message.from_json(delivery.content)
    if receipt is not None:
        message = replace(message, details=(("M-Pesa receipt", receipt.number), *message.details))
    if delivery.channel is Channel.email:
        email = render_email(
            message, recipient_name=str(delivery.content["recipient_name"]), sender=sender
        )
        delivery.subject, delivery.text, delivery.html = email.subject, email.text, email.html
    else:
        delivery.subject, delivery.text = message.title, render_sms(message, sender=sender)


async def _receipt(
    session: AsyncSession,
    delivery: NotificationDelivery,
    providers: Providers,
    *,
    settings: Settings,
) -> ReceiptFile | None:
    """The receipt to attach. A payment proven by M-Pesa's status query gets its receipt number
    from the callback a moment later: wait for it (retrying), and on the last try send without."""
    if delivery.receipt_attempt_id is None or providers.receipt is None:
        return None
    receipt = await providers.receipt(session, delivery.receipt_attempt_id)
    if receipt is None and delivery.attempts < settings.NOTIFY_MAX_ATTEMPTS:
        raise DeliveryError("waiting for the M-Pesa receipt number", permanent=False)
    return receipt


async def _send(
    delivery: NotificationDelivery, providers: Providers, attachments: list[Attachment]
) -> str:
    assert delivery.text is not None
    if delivery.channel is Channel.sms:
        return await providers.sms.send(to=delivery.address, message=delivery.text)
    await providers.mailer.send(
        OutgoingEmail(
            to=delivery.address,
            subject=delivery.subject or "",
            text=delivery.text,
            html=delivery.html,
            message_id=delivery.message_id,
            attachments=attachments,
        )
    )
    return delivery.message_id


async def _failed(
    session: AsyncSession,
    delivery: NotificationDelivery,
    error: DeliveryError,
    *,
    settings: Settings,
    now: datetime,
) -> None:
    delivery.reason = error.reason
    if error.permanent or delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        await fail_for_good(session, delivery, reason=error.reason, now=now)
        return
    delay = backoff_seconds(
        delivery.attempts, base_s=settings.NOTIFY_RETRY_BASE_S, cap_s=settings.NOTIFY_RETRY_CAP_S
    )
    delivery.status = DeliveryStatus.queued
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    enqueue_after_commit(
        session, notification_service.DELIVER_TASK, str(delivery.id), _defer_by=delay
    )


async def fail_for_good(
    session: AsyncSession, delivery: NotificationDelivery, *, reason: str, now: datetime
) -> None:
    """Give up on a delivery; an SMS's content then goes by email."""
    delivery.status = DeliveryStatus.failed
    delivery.reason = reason
    delivery.updated_at = now
    if delivery.channel is not Channel.sms:
        return
    user = await session.get(User, delivery.user_id)
    if user is None:
        return
    await notification_service.queue_delivery(
        session,
        event_key=f"{delivery.event_key}:fallback",
        user=user,
        channel=Channel.email,
        message=Message.from_json(delivery.content),
        receipt_attempt_id=delivery.receipt_attempt_id,
        now=now,
    )


async def sweep(session: AsyncSession, *, settings: Settings, now: datetime | None = None) -> int:
    """Re-enqueue due deliveries whose job was lost and recover those cut off mid-send; returns
    how many it touched."""
    now = now or datetime.now(UTC)
    repository = DeliveryRepository.from_session(session)
    stale = await repository.stale_sending(
        claimed_before=now - timedelta(seconds=settings.NOTIFY_STALE_SENDING_S),
        limit=settings.NOTIFY_SWEEP_BATCH_SIZE,
    )
    for delivery in stale:
        if delivery.channel is Channel.email:
            delivery.status = DeliveryStatus.queued
            delivery.next_attempt_at = now
            delivery.reason = INTERRUPTED
            delivery.updated_at = now
        else:
            await fail_for_good(session, delivery, reason=INTERRUPTED, now=now)
    await session.flush()
    due = await repository.due_ids(now=now, limit=settings.NOTIFY_SWEEP_BATCH_SIZE)
    for delivery_id in due:
        enqueue_after_commit(session, notification_service.DELIVER_TASK, str(delivery_id))
    return len(stale) + len(due)


# Africa's Talking's delivery report statuses: these are final; Sent, Submitted and Buffered are
# on the way and change nothing here.
REPORT_DELIVERED = {"Success"}
REPORT_FAILED = {"Failed", "Rejected"}


async def record_report(
    session: AsyncSession,
    *,
    message_id: str,
    status: str,
    failure_reason: str | None,
    now: datetime | None = None,
) -> NotificationDelivery | None:
    """Apply an SMS delivery report; the delivery, or None for a message id we never sent.
    Reports repeat and arrive out of order: a final status is never changed."""
    now = now or datetime.now(UTC)
    delivery = await DeliveryRepository.from_session(session).by_provider_message_id(message_id)
    if delivery is None or delivery.status is not DeliveryStatus.sent:
        return delivery
    if status in REPORT_DELIVERED:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = now
        delivery.updated_at = now
    elif status in REPORT_FAILED:
        await fail_for_good(
            session, delivery, reason=f"{status}: {failure_reason or 'no reason given'}", now=now
        )
    return delivery


async def receive_report(
    session: AsyncSession, *, settings: Settings, token: str, body: bytes
) -> DeliveryReportReceipt:
    """An Africa's Talking delivery report (form fields ``id``, ``status``, ``failureReason``)
    at the URL carrying our token."""
    expected = settings.SMS_REPORT_TOKEN.get_secret_value().encode()
    if not hmac.compare_digest(token.encode(), expected):
        raise UnknownReportToken("no such delivery-report URL")
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    message_id, status = form.get("id"), form.get("status")
    if not message_id or not status:
        raise MalformedReport(
            "a delivery report needs the form fields id (the messageId) and status "
            "(Sent, Submitted, Buffered, Success, Rejected or Failed)"
        )
    delivery = await record_report(
        session, message_id=message_id, status=status, failure_reason=form.get("failureReason")
    )
    return DeliveryReportReceipt(
        known=delivery is not None,
        status=delivery.status.value if delivery is not None else None,
    )
