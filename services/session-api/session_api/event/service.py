"""Applying the gateway's payment events: verify, store once, apply in one transaction.

An event changes, together or not at all: the inbox row, the payment attempt, its payable (booking,
order or deposit), wallet ledger entries and notifications. Subscribers hear about it after the
commit.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.booking import service as booking_service
from session_api.config import Settings
from session_api.event import messages
from session_api.event.exceptions import InvalidEventSignature, MalformedEvent
from session_api.event.repository import GatewayEventRepository
from session_api.event.schemas import EventReceipt
from session_api.integrations.gateway import (
    EventEnvelope,
    GatewayEventBody,
    GatewayPayment,
    ReconciliationEventBody,
)
from session_api.models import Channel, EventOutcome, PayableType
from session_api.notification import service as notification_service
from session_api.order import service as order_service
from session_api.payment import service as payment_service
from session_api.payment import stream as payment_stream
from session_api.payment.payable import PayableFlow
from session_api.payment.service import PayableRef
from session_api.platform_settings import service as platform_settings_service
from session_api.user.repository import UserRepository
from session_api.wallet import service as wallet_service
from shared import webhook_signing
from shared.phone import mask_phone

log = structlog.get_logger(__name__)

RECONCILIATION_COMPLETED = "reconciliation.completed"
REFUND_FAILED = "payment.refund_failed"

FLOWS: dict[PayableType, PayableFlow[Any]] = {
    PayableType.booking: booking_service.flow,
    PayableType.order: order_service.flow,
    PayableType.deposit: wallet_service.deposit_flow,
}


def authenticate(settings: Settings, *, headers: dict[str, str], body: bytes) -> str:
    """The event's `webhook-id` if it is signed with our secret within the time window."""
    try:
        return webhook_signing.verify(
            settings.WEBHOOK_SECRET.get_secret_value(),
            headers=headers,
            body=body,
            now=time.time(),
            tolerance_s=settings.WEBHOOK_TOLERANCE_S,
        )
    except webhook_signing.WebhookVerificationError as e:
        log.warning("payment_event_refused", reason=str(e))
        raise InvalidEventSignature(str(e)) from e


def parse(body: bytes) -> GatewayEventBody | ReconciliationEventBody:
    try:
        if EventEnvelope.model_validate_json(body).type == RECONCILIATION_COMPLETED:
            return ReconciliationEventBody.model_validate_json(body)
        return GatewayEventBody.model_validate_json(body)
    except ValidationError as e:
        raise MalformedEvent(
            f"not a payment or {RECONCILIATION_COMPLETED} event: {e.errors()[0]['msg']}"
        ) from e


async def receive(
    session: AsyncSession,
    *,
    redis: Redis,
    webhook_id: str,
    event: GatewayEventBody | ReconciliationEventBody,
) -> EventReceipt:
    repository = GatewayEventRepository.from_session(session)
    inbox_id = await repository.store(webhook_id=webhook_id, event=event)
    if inbox_id is None:
        log.info("payment_event_duplicate", webhook_id=webhook_id)
        return EventReceipt(webhook_id=webhook_id, duplicate=True, outcome=None)
    if isinstance(event, ReconciliationEventBody):
        outcome = await reconciliation_completed(session, event=event)
        await repository.mark(inbox_id, outcome=outcome, at=datetime.now(UTC))
        return EventReceipt(webhook_id=webhook_id, duplicate=False, outcome=outcome)
    outcome = await apply(session, redis=redis, payment=event.data, sequence=event.sequence)
    if event.type == REFUND_FAILED:
        await refund_failed(session, payment=event.data)
    await repository.mark(inbox_id, outcome=outcome, at=datetime.now(UTC))
    log.info(
        "payment_event_received",
        webhook_id=webhook_id,
        type=event.type,
        sequence=event.sequence,
        gateway_payment_id=event.data.id,
        outcome=outcome.value,
    )
    return EventReceipt(webhook_id=webhook_id, duplicate=False, outcome=outcome)


async def reconciliation_completed(
    session: AsyncSession, *, event: ReconciliationEventBody
) -> EventOutcome:
    """A run that left exceptions open: every active staff member and admin gets an email with
    the counts per verdict and a link to the run (once per run and person: the outbox's key).
    A run with none open tells nobody."""
    run = event.data
    if run.open_exceptions == 0:
        log.info("reconciliation_clean", run_id=run.id)
        return EventOutcome.unchanged
    message = messages.open_exceptions(run)
    staff = await UserRepository.from_session(session).active_staff_ids()
    for user_id in staff:
        await notification_service.announce(
            session,
            event_key=f"{RECONCILIATION_COMPLETED}:{run.id}",
            user_id=user_id,
            message=message,
            channels={Channel.email},
        )
    log.info(
        "reconciliation_exceptions_announced",
        run_id=run.id,
        open_exceptions=run.open_exceptions,
        recipients=len(staff),
    )
    return EventOutcome.applied


async def refund_failed(session: AsyncSession, *, payment: GatewayPayment) -> None:
    """M-Pesa refused a refund staff asked for: the attempt stays paid (the money never moved
    back), so every active staff member and admin is told, by email and in-app, once."""
    message = messages.refund_failed(payment)
    staff = await UserRepository.from_session(session).active_staff_ids()
    for user_id in staff:
        await notification_service.announce(
            session,
            event_key=f"{REFUND_FAILED}:{payment.id}",
            user_id=user_id,
            message=message,
            channels={notification_service.IN_APP, Channel.email},
        )
    log.info("refund_failure_announced", gateway_payment_id=payment.id, recipients=len(staff))


async def apply(
    session: AsyncSession, *, redis: Redis, payment: GatewayPayment, sequence: int | None
) -> EventOutcome:
    """Apply the gateway's view of a payment (from an event, or read back by the refresh job).
    Without a sequence, only a change the state guard allows is applied."""
    if await platform_settings_service.refuses(session, payment=payment):
        log.warning(
            "payment_event_sandbox_refused",
            gateway_payment_id=payment.id,
            environment=payment.environment,
            status=payment.status.value,
        )
        return EventOutcome.sandbox_refused
    ref = PayableRef.from_metadata(payment.metadata)
    if ref is None:
        known = await payment_service.get_by_gateway_payment_id(
            session, gateway_payment_id=payment.id
        )
        ref = PayableRef.of(known) if known is not None else None
    if ref is None:
        log.warning("payment_event_unmatched", gateway_payment_id=payment.id)
        return EventOutcome.unmatched
    # Lock the payable first, as the request that records an attempt does: an event that races
    # that request waits here until its attempt is committed, or adopts it first.
    flow = FLOWS[ref.type]
    payable = await flow.lock(session, ref, payment=payment, phone_masked=mask_phone(payment.phone))
    if payable is None:
        log.warning(
            "payment_event_unmatched", gateway_payment_id=payment.id, payable=ref.metadata()
        )
        return EventOutcome.unmatched
    attempt = await payment_service.get_by_gateway_payment_id(
        session, gateway_payment_id=payment.id, for_update=True
    )
    if attempt is None:
        attempt = await payment_service.adopt_attempt(session, ref=ref, payment=payment)
    if sequence is not None:
        # A receipt is proof whatever the order it arrives in: the gateway records one that
        # comes after the payment settled without changing the payment's sequence.
        stale = sequence <= attempt.last_event_sequence
        if stale and not payment_service.fills_receipt(attempt, payment):
            return EventOutcome.stale
        attempt.last_event_sequence = max(attempt.last_event_sequence, sequence)
    if not payment_service.apply_payment(attempt, payment):
        return EventOutcome.unchanged
    await flow.record(session, payable, attempt)
    await session.flush()
    payment_stream.publish(session, redis, attempt)
    return EventOutcome.applied
