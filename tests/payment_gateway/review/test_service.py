"""Staff review of held payments on the service level, each test in one rolled-back transaction:
accept completes on the held callback's receipt, reject fails and frees the payable, each
decision is on the timeline with the person and their note, and the sweep never waits behind
held payments."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.models import EventSource, Payment, PaymentStatus
from payment_gateway.payment import lifecycle, monitoring
from payment_gateway.payment.exceptions import PaymentNotFound
from payment_gateway.review import service
from payment_gateway.review.exceptions import NotHeldForReview, ReceiptTaken
from payment_gateway.review.schemas import Decision
from shared import jobs
from tests.payment_gateway.payment.test_lifecycle import (
    pending_payment,
    published,
    sent_payment,
    settle,
    timeline,
)

S = PaymentStatus
STAFF = lifecycle.Actor(EventSource.admin, "user:u-42", user_id="u-42", via="session-api")


@pytest.fixture
def settings() -> Settings:
    return Settings()


def receipt() -> str:
    return "UH" + secrets.token_hex(4).upper()


async def held(session: AsyncSession, payment: Payment, *, receipt_number: str | None) -> Payment:
    await lifecycle.hold(
        session,
        payment=payment,
        review_reason="amount_mismatch",
        actor=lifecycle.CALLBACK,
        detail={"receipt_number": receipt_number, "amount": "25"},
    )
    await session.flush()
    return payment


async def decide(
    session: AsyncSession, payment: Payment, settings: Settings, decision: Decision
) -> Payment:
    return await service.decide(
        session,
        payment_id=payment.id,
        decision=decision,
        note=f"{decision.value}: checked the statement",
        actor=STAFF,
        settings=settings,
    )


async def test_accept_completes_on_the_held_receipt(
    db_session: AsyncSession, settings: Settings
) -> None:
    number = receipt()
    payment = await held(
        db_session, await sent_payment(db_session, settings), receipt_number=number
    )

    await decide(db_session, payment, settings, Decision.accept)

    assert (payment.status, payment.review_reason) == (S.completed, None)
    assert payment.receipt_number == number
    assert await published(db_session, payment) == ["payment.sent", "payment.completed"]
    events = await timeline(db_session, payment)
    decision = next(e for e in events if e.reason == "review_accepted")
    assert (decision.source, decision.actor) == ("admin", "user:u-42")
    assert decision.note == "accept: checked the statement"
    assert decision.detail["acting_user_id"] == "u-42"
    assert decision.detail["review_reason"] == "amount_mismatch"
    assert [e.reason for e in events][-2:] == ["hold_released", None]
    assert (events[-1].to_status, events[-1].actor) == (S.completed, "user:u-42")


async def test_accept_of_a_payment_that_failed_meanwhile_is_a_late_success(
    db_session: AsyncSession, settings: Settings
) -> None:
    payment = await sent_payment(db_session, settings)
    await settle(db_session, payment, settings, "1037")
    await held(db_session, payment, receipt_number=receipt())

    await decide(db_session, payment, settings, Decision.accept)

    assert (payment.status, payment.reason) == (S.completed, lifecycle.LATE_SUCCESS)


async def test_accept_of_a_pending_payment_records_it_sent_on_the_way(
    db_session: AsyncSession, settings: Settings
) -> None:
    payment = await held(
        db_session, await pending_payment(db_session, settings), receipt_number=receipt()
    )

    await decide(db_session, payment, settings, Decision.accept)

    steps = [(e.from_status, e.to_status) for e in await timeline(db_session, payment)]
    assert (S.pending, S.sent) in steps and steps[-1] == (S.sent, S.completed)


async def test_accept_refuses_a_receipt_another_payment_carries(
    db_session: AsyncSession, settings: Settings
) -> None:
    number = receipt()
    other = await sent_payment(db_session, settings)
    await settle(db_session, other, settings, "0", receipt=number)
    payment = await held(
        db_session, await sent_payment(db_session, settings), receipt_number=number
    )

    with pytest.raises(ReceiptTaken, match=f"already recorded on payment {other.id}"):
        await decide(db_session, payment, settings, Decision.accept)
    assert payment.status == S.sent


async def test_reject_fails_the_payment_so_it_can_be_paid_again(
    db_session: AsyncSession, settings: Settings
) -> None:
    payment = await held(
        db_session, await sent_payment(db_session, settings), receipt_number=receipt()
    )

    await decide(db_session, payment, settings, Decision.reject)

    assert (payment.status, payment.reason) == (S.failed, service.REJECTED)
    assert payment.review_reason is None
    assert payment.receipt_number is None
    assert await published(db_session, payment) == ["payment.sent", "payment.failed"]
    events = await timeline(db_session, payment)
    assert events[-2].reason == "review_rejected"
    assert events[-2].note == "reject: checked the statement"
    assert (events[-1].to_status, events[-1].note) == (S.failed, "reject: checked the statement")


async def test_reject_of_a_payment_that_failed_meanwhile_only_ends_the_hold(
    db_session: AsyncSession, settings: Settings
) -> None:
    payment = await sent_payment(db_session, settings)
    await settle(db_session, payment, settings, "1032")
    await held(db_session, payment, receipt_number=None)

    await decide(db_session, payment, settings, Decision.reject)

    assert (payment.status, payment.review_reason) == (S.cancelled, None)
    assert await published(db_session, payment) == ["payment.sent", "payment.cancelled"]


@pytest.mark.parametrize("decision", list(Decision))
async def test_deciding_twice_names_the_current_state(
    db_session: AsyncSession, settings: Settings, decision: Decision
) -> None:
    payment = await held(
        db_session, await sent_payment(db_session, settings), receipt_number=receipt()
    )
    await decide(db_session, payment, settings, decision)
    status = payment.status

    with pytest.raises(NotHeldForReview, match=f"is {status} and not held for review"):
        await decide(db_session, payment, settings, Decision.accept)
    assert payment.status == status


async def test_a_payment_never_held_cannot_be_decided(
    db_session: AsyncSession, settings: Settings
) -> None:
    payment = await sent_payment(db_session, settings)

    with pytest.raises(NotHeldForReview, match="is sent and not held"):
        await decide(db_session, payment, settings, Decision.reject)


async def test_an_unknown_payment_is_not_found(
    db_session: AsyncSession, settings: Settings
) -> None:
    with pytest.raises(PaymentNotFound):
        await service.decide(
            db_session,
            payment_id=uuid.uuid4(),
            decision=Decision.accept,
            note="n",
            actor=STAFF,
            settings=settings,
        )


async def test_the_sweep_never_waits_behind_held_payments(
    db_session: AsyncSession, settings: Settings
) -> None:
    # Held payments overdue longer than anything else, more of them than one sweep takes: the
    # sweep still reaches the open payment behind them.
    ancient = datetime(2000, 1, 1, tzinfo=UTC)
    for _ in range(3):
        payment = await held(
            db_session, await sent_payment(db_session, settings), receipt_number=receipt()
        )
        payment.next_check_at = ancient
    waiting = await sent_payment(db_session, settings)
    waiting.next_check_at = datetime(2000, 1, 2, tzinfo=UTC)
    await db_session.flush()
    jobs.discard(db_session)

    resumed = await monitoring.resume_overdue(
        db_session, settings=settings.model_copy(update={"SWEEP_BATCH_SIZE": 2})
    )

    queued = jobs.pending(db_session)
    assert resumed >= 1
    assert queued[0].args == (str(waiting.id), waiting.poll_step)
