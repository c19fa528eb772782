"""Staff decide about a payment the gateway held for review (its callback's amount or phone did
not match what was asked). The gateway records the decision with the person and their note and
publishes the outcome as usual; the answer is applied here at once, exactly as its event would
be (the event then finds nothing left to do), so the payable follows in this same request."""

from __future__ import annotations

import structlog
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.event import service as event_service
from session_api.integrations.gateway import GatewayClient, GatewayError, GatewayPayment
from session_api.models import PaymentAttempt, User
from session_api.payment.exceptions import PaymentsUnavailable
from session_api.review.dependencies import acting_user
from session_api.review.exceptions import ReviewConflict
from session_api.review.schemas import Decision
from shared.errors import DomainError

log = structlog.get_logger(__name__)


async def decide(
    session: AsyncSession,
    *,
    gateway: GatewayClient,
    redis: Redis,
    attempt: PaymentAttempt,
    staff: User,
    decision: Decision,
    note: str,
) -> GatewayPayment:
    try:
        payment = await gateway.review_payment(
            attempt.gateway_payment_id,
            decision=decision.value,
            note=note,
            acting_user=acting_user(staff),
        )
    except GatewayError as e:
        raise refusal(e, conflict=ReviewConflict) from e
    await event_service.apply(session, redis=redis, payment=payment, sequence=payment.sequence)
    # Not the note: staff's free text may name the customer, and the trail outlives erasure.
    await audit.record(
        session,
        action="payment.reviewed",
        actor=audit.actor_of(staff),
        subject=f"payment_attempt:{attempt.id}",
        details={
            "role": staff.role,
            "decision": decision,
            "gateway_payment_id": attempt.gateway_payment_id,
            "gateway_status": payment.status,
        },
    )
    log.info(
        "payment_reviewed",
        attempt_id=str(attempt.id),
        decision=decision.value,
        staff_id=str(staff.id),
        gateway_status=payment.status.value,
    )
    return payment


def refusal(e: GatewayError, *, conflict: type[DomainError]) -> DomainError:
    """The error staff see when the gateway does not take the action: its own words for a
    conflict (they describe this payment to staff, who may see it), else unavailable."""
    if e.http_status in (404, 409):
        return conflict(e.detail or e.message)
    log.error("gateway_staff_action_failed", status=e.http_status, error=e.error, detail=e.detail)
    return PaymentsUnavailable(
        "the payment gateway cannot take this action right now; nothing changed, try again later"
    )
