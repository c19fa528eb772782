"""The outbox: events written with the change that caused them, then delivered to every
subscriber, signed, in order, retried with backoff for days, every attempt recorded."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway import metrics
from payment_gateway.config import Settings
from payment_gateway.models import DeliveryStatus, OutboxEvent, Payment, PaymentStatus
from payment_gateway.outbox.repository import ClaimedDelivery, OutboxRepository
from payment_gateway.outbox.schemas import EventPayment, PaymentEventPayload
from shared import webhook_signing
from shared.db import utcnow
from shared.jobs import enqueue_after_commit
from shared.worker import backoff_seconds

log = structlog.get_logger(__name__)

DELIVER_TASK = "webhook.deliver"

EVENT_TYPES: dict[str, str] = {
    PaymentStatus.sent: "payment.sent",
    PaymentStatus.completed: "payment.completed",
    PaymentStatus.failed: "payment.failed",
    PaymentStatus.cancelled: "payment.cancelled",
    PaymentStatus.timeout: "payment.timeout",
    PaymentStatus.refund_pending: "payment.refund_pending",
    PaymentStatus.refunded: "payment.refunded",
    PaymentStatus.refund_failed: "payment.refund_failed",
}


def message_id(event_id: uuid.UUID) -> str:
    return f"evt_{event_id.hex}"


def deliver_job(
    delivery_id: int, *, attempt: int, settings: Settings, defer_s: float = 0, tag: str = ""
) -> dict[str, Any]:
    """arq options for one delivery job; the id makes an identical enqueue a no-op. arq keeps
    job ids in one key space per Redis database, so ours carry the deployment's namespace."""
    job_id = f"{settings.NAMESPACE}:webhook:{delivery_id}:{attempt}{tag}"
    options: dict[str, Any] = {"_job_id": job_id}
    if defer_s > 0:
        options["_defer_by"] = defer_s
    return options


async def publish(
    session: AsyncSession, *, payment: Payment, settings: Settings
) -> OutboxEvent | None:
    """Write the event for the payment's new status (if subscribers care about it) and queue
    its deliveries for after the commit."""
    event_type = EVENT_TYPES.get(payment.status)
    if event_type is None:
        return None
    now = utcnow()
    event_id = uuid.uuid4()
    body = PaymentEventPayload(
        id=message_id(event_id),
        type=event_type,
        created_at=now.isoformat().replace("+00:00", "Z"),
        data=EventPayment.of(payment),
        sequence=payment.sequence,
    ).model_dump(mode="json")
    event = OutboxEvent(
        id=event_id,
        payment_id=payment.id,
        type=event_type,
        sequence=payment.sequence,
        payload=body,
        created_at=now,
    )
    await _add(session, event=event, settings=settings)
    return event


async def publish_notice(
    session: AsyncSession, *, event_type: str, data: dict[str, Any], settings: Settings
) -> OutboxEvent:
    """An event about something other than one payment (`reconciliation.completed`): no
    sequence to order it by, delivered to the endpoints whose `types` take it."""
    now = utcnow()
    event_id = uuid.uuid4()
    body = {
        "id": message_id(event_id),
        "type": event_type,
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "data": data,
        "sequence": 0,
    }
    event = OutboxEvent(
        id=event_id, payment_id=None, type=event_type, sequence=0, payload=body, created_at=now
    )
    await _add(session, event=event, settings=settings)
    return event


async def _add(session: AsyncSession, *, event: OutboxEvent, settings: Settings) -> None:
    deliveries = await OutboxRepository.from_session(session).add_event(
        event=event,
        endpoint_urls=[e.url for e in settings.WEBHOOK_ENDPOINTS if e.wants(event.type)],
        now=event.created_at,
    )
    for delivery in deliveries:
        enqueue_after_commit(
            session,
            DELIVER_TASK,
            delivery.id,
            **deliver_job(delivery.id, attempt=0, settings=settings),
        )


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


async def send(
    http: httpx.AsyncClient, *, settings: Settings, delivery: ClaimedDelivery
) -> SendResult:
    """One signed POST; never raises."""
    endpoint = settings.endpoint(delivery.endpoint_url)
    if endpoint is None:
        return SendResult(None, "endpoint no longer configured in GATEWAY_WEBHOOK_ENDPOINTS", 0.0)
    body = encode(delivery.payload)
    headers = webhook_signing.headers(
        endpoint.secret.get_secret_value(),
        msg_id=message_id(delivery.event_id),
        timestamp=int(time.time()),
        body=body,
    )
    started = time.perf_counter()
    try:
        response = await http.post(
            delivery.endpoint_url, content=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_S
        )
    except httpx.HTTPError as e:
        elapsed = (time.perf_counter() - started) * 1000
        return SendResult(None, f"{type(e).__name__}: {e}"[:500], elapsed)
    elapsed = (time.perf_counter() - started) * 1000
    error = None if response.is_success else response.text[:500] or response.reason_phrase
    return SendResult(response.status_code, error, elapsed)


async def record(
    session: AsyncSession,
    *,
    delivery: ClaimedDelivery,
    result: SendResult,
    settings: Settings,
) -> str:
    """Store the attempt and decide what comes next: done, retry later, or give up."""
    repository = OutboxRepository.from_session(session)
    await repository.record_attempt(
        delivery_id=delivery.id,
        number=delivery.attempts,
        duration_ms=result.duration_ms,
        status_code=result.status_code,
        error=result.error,
    )
    if result.ok:
        outcome = DeliveryStatus.delivered
        await repository.finish(
            delivery_id=delivery.id, status=outcome, status_code=result.status_code, error=None
        )
    else:
        outcome = await _retry_or_abandon(
            session, delivery=delivery, result=result, settings=settings
        )
    metrics.WEBHOOK_ATTEMPTS.labels(
        "failed" if outcome == DeliveryStatus.pending else outcome
    ).inc()
    if outcome != DeliveryStatus.pending:
        await _release_stream(session, delivery=delivery, settings=settings)
    log.info(
        "webhook_attempt",
        delivery_id=delivery.id,
        event_id=message_id(delivery.event_id),
        endpoint=delivery.endpoint_url,
        attempt=delivery.attempts,
        status_code=result.status_code,
        outcome=outcome,
    )
    return outcome


async def _retry_or_abandon(
    session: AsyncSession, *, delivery: ClaimedDelivery, result: SendResult, settings: Settings
) -> str:
    """Schedule the next attempt with backoff, or abandon the delivery once its subscriber is
    no longer configured or the event would be older than `WEBHOOK_MAX_AGE_H` by then."""
    delay = settings.scaled(
        backoff_seconds(
            delivery.attempts,
            base_s=settings.WEBHOOK_RETRY_BASE_S,
            cap_s=settings.WEBHOOK_RETRY_CAP_S,
        )
    )
    next_at = utcnow() + timedelta(seconds=delay)
    gone = settings.endpoint(delivery.endpoint_url) is None
    expired = next_at > delivery.event_created_at + timedelta(
        hours=settings.WEBHOOK_MAX_AGE_H * settings.TIME_SCALE
    )
    outcome = DeliveryStatus.abandoned if gone or expired else DeliveryStatus.pending
    await OutboxRepository.from_session(session).finish(
        delivery_id=delivery.id,
        status=outcome,
        status_code=result.status_code,
        error=result.error,
        next_attempt_at=next_at,
    )
    if outcome == DeliveryStatus.pending:
        enqueue_after_commit(
            session,
            DELIVER_TASK,
            delivery.id,
            **deliver_job(delivery.id, attempt=delivery.attempts, settings=settings, defer_s=delay),
        )
    return outcome


async def _release_stream(
    session: AsyncSession, *, delivery: ClaimedDelivery, settings: Settings
) -> None:
    """The stream of this payment to this subscriber is free again: send its next event."""
    following = await OutboxRepository.from_session(session).next_in_stream(delivery_id=delivery.id)
    if following is not None:
        enqueue_after_commit(
            session,
            DELIVER_TASK,
            following.id,
            **deliver_job(
                following.id,
                attempt=following.attempts,
                settings=settings,
                tag=f":after:{delivery.id}",
            ),
        )


async def requeue_overdue(session: AsyncSession, *, settings: Settings) -> int:
    """Re-enqueue deliveries whose job was lost (worker restart, Redis loss)."""
    older_than = utcnow() - timedelta(seconds=settings.scaled(settings.SWEEP_GRACE_S))
    overdue = await OutboxRepository.from_session(session).overdue(
        older_than=older_than, limit=settings.SWEEP_BATCH_SIZE
    )
    for delivery in overdue:
        enqueue_after_commit(
            session,
            DELIVER_TASK,
            delivery.id,
            **deliver_job(delivery.id, attempt=delivery.attempts, settings=settings, tag=":sweep"),
        )
    return len(overdue)


def lease_seconds(settings: Settings) -> float:
    """How long a claimed delivery is held: longer than its POST may take, so two senders never
    overlap; a sender that died frees it when this runs out."""
    return settings.WEBHOOK_TIMEOUT_S * 1.5 + 1
