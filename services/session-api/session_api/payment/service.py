"""Payment attempts: opening one through the gateway, applying what the gateway reports, and
reading them back. Their live stream is `stream.py`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.config import Settings
from session_api.integrations.gateway import (
    CreatePaymentRequest,
    GatewayClient,
    GatewayError,
    GatewayIdempotencyConflict,
    GatewayPayment,
    GatewayPaymentStatus,
    GatewayRejected,
)
from session_api.models import AttemptStatus, PayableType, PaymentAttempt, User, UserRole
from session_api.pagination import PageParams
from session_api.payment import receipt
from session_api.payment.exceptions import (
    AlreadyPaid,
    AttemptNotFound,
    PaymentBlocked,
    PaymentInProgress,
    PaymentRejected,
    PaymentsUnavailable,
)
from session_api.payment.repository import PaymentAttemptRepository
from shared.errors import DomainError
from shared.phone import mask_phone

log = structlog.get_logger(__name__)

# Our own words for the gateway's 409s: its detail describes a payment that may be another
# customer's (the same phone can be typed by anyone), so it is logged, never shown.
BLOCKED_MESSAGES = {
    "PhoneBusy": "this phone already has an M-Pesa prompt waiting; answer or cancel it on the "
    "phone, or wait for it to time out, then try again",
    "DuplicatePayment": "M-Pesa refuses the same amount from the same phone twice within 2 "
    "minutes; try again later",
}
BLOCKED_DEFAULT = "M-Pesa cannot take a payment from this phone right now; try again later"
STATUS_FROM_GATEWAY = {
    GatewayPaymentStatus.pending: AttemptStatus.processing,
    GatewayPaymentStatus.sent: AttemptStatus.processing,
    GatewayPaymentStatus.completed: AttemptStatus.paid,
    GatewayPaymentStatus.failed: AttemptStatus.failed,
    GatewayPaymentStatus.cancelled: AttemptStatus.cancelled,
    GatewayPaymentStatus.timeout: AttemptStatus.timeout,
    # Until M-Pesa confirms the Reversal, the money is still with us: the attempt stays paid.
    GatewayPaymentStatus.refund_pending: AttemptStatus.paid,
    GatewayPaymentStatus.refund_failed: AttemptStatus.paid,
    GatewayPaymentStatus.refunded: AttemptStatus.refunded,
}


@dataclass(frozen=True)
class Charge:
    """What an attempt asks the payer for, as the payable's own domain describes it."""

    type: PayableType
    id: uuid.UUID
    user_id: uuid.UUID
    amount: int
    account_reference: str
    description: str


@dataclass(frozen=True)
class PayableRef:
    """The payable an attempt belongs to, as recorded in the gateway payment's metadata."""

    type: PayableType
    id: uuid.UUID
    user_id: uuid.UUID
    attempt_number: int

    def metadata(self) -> dict[str, Any]:
        return {
            "payable_type": self.type.value,
            "payable_id": str(self.id),
            "user_id": str(self.user_id),
            "attempt_number": self.attempt_number,
        }

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> PayableRef | None:
        try:
            return cls(
                type=PayableType(metadata["payable_type"]),
                id=uuid.UUID(str(metadata["payable_id"])),
                user_id=uuid.UUID(str(metadata["user_id"])),
                attempt_number=int(metadata["attempt_number"]),
            )
        except (KeyError, ValueError, TypeError):
            return None

    @classmethod
    def of(cls, attempt: PaymentAttempt) -> PayableRef:
        return cls(
            type=attempt.payable_type,
            id=attempt.payable_id,
            user_id=attempt.user_id,
            attempt_number=attempt.attempt_number,
        )


def idempotency_key(payable_type: PayableType, payable_id: uuid.UUID, attempt_number: int) -> str:
    """The same payable and attempt number always give the same key, so a request retried after a
    timeout or a crash finds the gateway payment it already made instead of making another."""
    return f"session-api:{payable_type.value}:{payable_id}:{attempt_number}"


async def plan_attempt(session: AsyncSession, *, charge: Charge) -> PayableRef:
    """The next attempt for the payable; refused if it is paid or an attempt still waits."""
    attempts = await PaymentAttemptRepository.from_session(session).for_payable(
        charge.type, charge.id
    )
    if any(attempt.status is AttemptStatus.paid for attempt in attempts):
        raise AlreadyPaid(f"this {charge.type.value} is already paid")
    open_attempt = next((a for a in attempts if a.status is AttemptStatus.processing), None)
    if open_attempt is not None:
        raise PaymentInProgress(
            f"payment attempt {open_attempt.id} for this {charge.type.value} is still waiting "
            "for the customer; finish or cancel it on the phone, or wait for it to time out"
        )
    return PayableRef(
        type=charge.type,
        id=charge.id,
        user_id=charge.user_id,
        attempt_number=max((a.attempt_number for a in attempts), default=0) + 1,
    )


async def request_payment(
    *,
    gateway: GatewayClient,
    settings: Settings,
    charge: Charge,
    ref: PayableRef,
    phone: str,
    request_id: str | None,
) -> GatewayPayment:
    """Ask the gateway for an STK push. The key is the same for the same payable and attempt
    number, so two requests that planned the same attempt get one payment between them."""
    key = idempotency_key(ref.type, ref.id, ref.attempt_number)
    request = CreatePaymentRequest(
        amount=charge.amount,
        phone=phone,
        account_reference=charge.account_reference,
        description=charge.description,
        metadata=ref.metadata(),
    )
    try:
        return await gateway.create_payment(request, idempotency_key=key, request_id=request_id)
    except GatewayError as e:
        raise _refusal(e, key=key, charge=charge, settings=settings) from e


def _refusal(e: GatewayError, *, key: str, charge: Charge, settings: Settings) -> DomainError:
    """The error the payer sees when the gateway does not make the payment."""
    if isinstance(e, GatewayIdempotencyConflict):
        # Only an earlier request with this same key (one whose answer we never recorded) can be
        # behind this: a payment exists and its events will tell us how it ends.
        log.warning("gateway_idempotency_conflict", key=key, detail=e.detail)
        return PaymentInProgress(
            f"an earlier payment request for this {charge.type.value} is still being "
            "processed; check your phone, or try again in a minute"
        )
    if isinstance(e, GatewayRejected):
        if e.http_status == 409:
            log.info("gateway_payment_blocked", key=key, error=e.error, detail=e.detail)
            headers = {"Retry-After": str(e.retry_after_s)} if e.retry_after_s else None
            message = BLOCKED_MESSAGES.get(e.error or "", BLOCKED_DEFAULT)
            return PaymentBlocked(message, headers=headers)
        return PaymentRejected(f"the payment was refused: {e.detail}")
    log.error("gateway_unavailable", key=key, error=e.message)
    retry_after = e.retry_after_s or settings.GATEWAY_RETRY_AFTER_S
    return PaymentsUnavailable(
        f"M-Pesa payments are unavailable right now; nothing was charged. Try again in "
        f"{retry_after} seconds.",
        headers={"Retry-After": str(retry_after)},
    )


async def record_attempt(
    session: AsyncSession,
    *,
    ref: PayableRef,
    payment: GatewayPayment,
    phone_masked: str,
    phone_hash: str | None = None,
) -> tuple[PaymentAttempt, bool]:
    """The attempt for a payment the gateway just made, and whether it is new. Another request
    that planned the same attempt, or an event that adopted it, may have recorded it first: then
    that one is joined. The caller holds the payable's lock, so the two cannot both insert it."""
    repository = PaymentAttemptRepository.from_session(session)
    existing = await repository.get_by_gateway_payment_id(payment.id, for_update=True)
    if existing is not None:
        return existing, False
    attempt = _new_attempt(
        ref,
        payment,
        key=idempotency_key(ref.type, ref.id, ref.attempt_number),
        amount=payment.amount,
        phone=phone_masked,
    )
    attempt.phone_hash = phone_hash
    return await repository.create(attempt, flush=True), True


def _new_attempt(
    ref: PayableRef, payment: GatewayPayment, *, key: str, amount: int, phone: str
) -> PaymentAttempt:
    attempt = PaymentAttempt(
        id=uuid.uuid4(),
        user_id=ref.user_id,
        payable_type=ref.type,
        payable_id=ref.id,
        attempt_number=ref.attempt_number,
        idempotency_key=key,
        gateway_payment_id=payment.id,
        amount=amount,
        phone_masked=phone,
        status=AttemptStatus.processing,
        gateway_status=payment.status.value,
        customer_message=payment.customer_message or "",
        last_event_sequence=0,
        version=1,
    )
    apply_payment(attempt, payment)
    return attempt


async def adopt_attempt(
    session: AsyncSession, *, ref: PayableRef, payment: GatewayPayment
) -> PaymentAttempt:
    """Record a gateway payment we asked for but never recorded (our transaction was lost after
    the gateway answered), so its outcome, and the customer's money, still count."""
    log.warning("payment_attempt_adopted", gateway_payment_id=payment.id, payable=ref.metadata())
    attempt = _new_attempt(
        ref,
        GatewayPayment.model_validate({**payment.model_dump(), "status": "sent"}),
        key=idempotency_key(ref.type, ref.id, ref.attempt_number),
        amount=payment.amount,
        phone=mask_phone(payment.phone),
    )
    return await PaymentAttemptRepository.from_session(session).create(attempt, flush=True)


def apply_payment(
    attempt: PaymentAttempt, payment: GatewayPayment, *, now: datetime | None = None
) -> bool:
    """Bring the attempt in line with the gateway's view of its payment; True if its status
    changed. A paid attempt is never downgraded (only refunded) and a finished one never
    reopens."""
    new_status = STATUS_FROM_GATEWAY[payment.status]
    attempt.environment = payment.environment or attempt.environment
    if fills_receipt(attempt, payment):
        # Paid on the word of a status query, which carries no receipt; the callback with the
        # receipt came later.
        attempt.receipt_number = payment.receipt_number
        attempt.customer_message = payment.customer_message or attempt.customer_message
        attempt.version += 1
        return True
    if attempt.status is AttemptStatus.refunded:
        return False
    if attempt.status is AttemptStatus.paid and new_status not in (
        AttemptStatus.paid,
        AttemptStatus.refunded,
    ):
        log.warning(
            "payment_downgrade_ignored", attempt_id=str(attempt.id), reported=payment.status.value
        )
        return False
    if attempt.status.is_final and new_status is AttemptStatus.processing:
        return False
    attempt.gateway_status = payment.status.value
    attempt.review_reason = payment.review_reason
    attempt.checkout_request_id = payment.checkout_request_id or attempt.checkout_request_id
    attempt.result_code = payment.result_code or attempt.result_code
    attempt.result_desc = payment.result_desc or attempt.result_desc
    if new_status is attempt.status:
        return False
    moment = now or datetime.now(UTC)
    attempt.status = new_status
    attempt.version += 1
    attempt.finished_at = moment if new_status.is_final else None
    # The words are the gateway's: it owns every sentence shown to a payer.
    attempt.customer_message = payment.customer_message or attempt.customer_message
    if new_status is AttemptStatus.paid:
        attempt.receipt_number = payment.receipt_number
        attempt.paid_at = moment
        attempt.reason = None
    elif new_status is AttemptStatus.refunded:
        attempt.reason = AttemptStatus.refunded.value
    elif new_status.is_final:
        attempt.reason = payment.reason or new_status.value
    return True


def receipt_note(attempt: PaymentAttempt) -> str:
    """` (M-Pesa receipt X)` for messages, or nothing while the receipt is not known yet."""
    return f" (M-Pesa receipt {attempt.receipt_number})" if attempt.receipt_number else ""


def fills_receipt(attempt: PaymentAttempt, payment: GatewayPayment) -> bool:
    """The payment brings the receipt of an attempt already paid without one."""
    return (
        attempt.status is AttemptStatus.paid
        and attempt.receipt_number is None
        and payment.status is GatewayPaymentStatus.completed
        and bool(payment.receipt_number)
    )


async def get_by_gateway_payment_id(
    session: AsyncSession, *, gateway_payment_id: str, for_update: bool = False
) -> PaymentAttempt | None:
    return await PaymentAttemptRepository.from_session(session).get_by_gateway_payment_id(
        gateway_payment_id, for_update=for_update
    )


async def attempts_for(
    session: AsyncSession, *, payable_type: PayableType, payable_id: uuid.UUID
) -> list[PaymentAttempt]:
    return await PaymentAttemptRepository.from_session(session).for_payable(
        payable_type, payable_id
    )


async def get_attempt(session: AsyncSession, *, attempt_id: uuid.UUID) -> PaymentAttempt:
    attempt = await PaymentAttemptRepository.from_session(session).get_by_id(attempt_id)
    if attempt is None:
        raise AttemptNotFound(f"no payment attempt {attempt_id}")
    return attempt


async def booking_therapist_id(session: AsyncSession, *, booking_id: uuid.UUID) -> uuid.UUID | None:
    return await PaymentAttemptRepository.from_session(session).booking_therapist_id(booking_id)


def visible_to(
    user: User, attempt: PaymentAttempt, *, booking_therapist_id: uuid.UUID | None
) -> bool:
    """The payer and admins see an attempt; so does the therapist of the booking it pays."""
    return (
        user.role is UserRole.admin
        or attempt.user_id == user.id
        or (booking_therapist_id is not None and booking_therapist_id == user.id)
    )


async def note_access(session: AsyncSession, *, user: User, attempt: PaymentAttempt) -> None:
    """An admin opening someone else's payment (its status, stream or receipt) is audited."""
    if user.role is not UserRole.admin or attempt.user_id == user.id:
        return
    await audit.record(
        session,
        action="payment.viewed",
        actor=audit.actor_of(user),
        subject=f"payment_attempt:{attempt.id}",
        details={
            "role": user.role,
            "owner": attempt.user_id,
            "payable_type": attempt.payable_type,
            "payable_id": attempt.payable_id,
        },
    )


async def history(
    session: AsyncSession,
    *,
    user: User,
    statuses: list[AttemptStatus] | None,
    payable_type: PayableType | None,
    created_from: datetime | None,
    created_to: datetime | None,
    page: PageParams,
) -> tuple[list[PaymentAttempt], int]:
    everyone = user.role is UserRole.admin
    result = await PaymentAttemptRepository.from_session(session).history(
        user_id=None if everyone else user.id,
        statuses=statuses,
        payable_type=payable_type,
        created_from=created_from,
        created_to=created_to,
        page=page,
    )
    if everyone:
        await audit.record(
            session,
            action="payment.listed",
            actor=audit.actor_of(user),
            details={
                "role": user.role,
                "filters": {
                    "status": statuses,
                    "payable_type": payable_type,
                    "created_from": created_from,
                    "created_to": created_to,
                },
                "page": page.page,
                "page_size": page.page_size,
                "shown": len(result[0]),
            },
        )
    return result


async def receipt_pdf(
    session: AsyncSession, *, attempt: PaymentAttempt, settings: Settings
) -> tuple[str, bytes]:
    """The receipt's file name and PDF bytes."""
    facts = await receipt.facts_for(session, attempt=attempt, settings=settings)
    return facts.filename, receipt.render_pdf(facts)
