"""Staff refund a paid payment through M-Pesa Reversal. The gateway owns the refund (one per
payment: asking again returns it, nothing reaches M-Pesa twice) and reports its end as the
payment's `payment.refunded` or `payment.refund_failed` event; the payable follows then: an
order is refunded, a booking cancelled, a deposit (or money kept in the wallet) debited by a new
ledger entry."""

from __future__ import annotations

import structlog
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.event import service as event_service
from session_api.integrations.gateway import GatewayClient, GatewayError, GatewayRefund
from session_api.models import AttemptStatus, PayableType, PaymentAttempt, User
from session_api.refund.exceptions import NotRefundable
from session_api.review import service as review_service
from session_api.review.dependencies import acting_user
from session_api.wallet import service as wallet_service

log = structlog.get_logger(__name__)


async def refund(
    session: AsyncSession,
    *,
    gateway: GatewayClient,
    redis: Redis,
    attempt: PaymentAttempt,
    staff: User,
    reason: str,
) -> tuple[GatewayRefund, bool]:
    """The payment's refund, and whether this request asked for it."""
    if attempt.status not in (AttemptStatus.paid, AttemptStatus.refunded):
        raise NotRefundable(
            f"payment attempt {attempt.id} is {attempt.status.value}; only a paid payment can "
            "be refunded"
        )
    if attempt.status is AttemptStatus.paid and attempt.payable_type is PayableType.deposit:
        wallet = await wallet_service.get_wallet(session, user_id=attempt.user_id)
        if wallet.balance < attempt.amount:
            raise NotRefundable(
                f"the wallet holds KES {wallet.balance:,}, less than this deposit of KES "
                f"{attempt.amount:,}: the customer has spent part of it"
            )
    try:
        refunded, created = await gateway.refund_payment(
            attempt.gateway_payment_id, reason=reason, acting_user=acting_user(staff)
        )
    except GatewayError as e:
        raise review_service.refusal(e, conflict=NotRefundable) from e
    payment = refunded.payment
    await event_service.apply(session, redis=redis, payment=payment, sequence=payment.sequence)
    # Not the reason: staff's free text may name the customer, and the trail outlives erasure.
    await audit.record(
        session,
        action="payment.refund_requested",
        actor=audit.actor_of(staff),
        subject=f"payment_attempt:{attempt.id}",
        details={
            "role": staff.role,
            "refund_id": refunded.id,
            "amount": attempt.amount,
            "state": refunded.state,
            "requested_now": created,
        },
    )
    log.info(
        "payment_refund_requested",
        attempt_id=str(attempt.id),
        refund_id=refunded.id,
        state=refunded.state,
        staff_id=str(staff.id),
    )
    return refunded, created
