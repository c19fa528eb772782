"""The settlement rules on the service level, each test in one rolled-back transaction: which
status may follow which, how Daraja's final answers settle a payment, holds, and late successes.
The whole flows (callbacks, polls, refreshes over HTTP) are in the flow tests; these are fast."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import outcome_for
from payment_gateway.models import OutboxEvent, Payment, PaymentEvent, PaymentStatus
from payment_gateway.payment import lifecycle, messages, service
from payment_gateway.payment.exceptions import IllegalTransition
from payment_gateway.payment.lifecycle import Settlement
from payment_gateway.payment.repository import PaymentEventRepository
from payment_gateway.payment.schemas import PaymentCreate

S = PaymentStatus
RECEIPT = "UBK3X7Q2PA"


@pytest.fixture
def settings() -> Settings:
    return Settings()


async def pending_payment(session: AsyncSession, settings: Settings) -> Payment:
    request = PaymentCreate(
        amount=1500,
        phone=f"07{secrets.randbelow(10**8):08d}",
        account_reference="ACC-1",
        description="Lifecycle",
    )
    payment, _ = await service.create(
        session, request=request, actor=lifecycle.SYSTEM, settings=settings
    )
    return payment


async def sent_payment(session: AsyncSession, settings: Settings) -> Payment:
    payment = await pending_payment(session, settings)
    await lifecycle.transition(
        session,
        payment=payment,
        to=S.sent,
        actor=lifecycle.SYSTEM,
        customer_message=messages.sent(payment.amount),
        settings=settings,
    )
    return payment


async def settle(
    session: AsyncSession,
    payment: Payment,
    settings: Settings,
    code: str,
    receipt: str | None = None,
) -> Settlement:
    return await lifecycle.settle(
        session,
        payment=payment,
        outcome=outcome_for(code),
        result_desc=f"answer {code}",
        receipt=receipt,
        actor=lifecycle.CALLBACK,
        detail={},
        settings=settings,
    )


async def timeline(session: AsyncSession, payment: Payment) -> list[PaymentEvent]:
    await session.flush()
    return await PaymentEventRepository.from_session(session).timeline(payment.id)


async def published(session: AsyncSession, payment: Payment) -> list[str]:
    rows = await session.execute(
        select(OutboxEvent.type)
        .where(OutboxEvent.payment_id == payment.id)
        .order_by(OutboxEvent.sequence)
    )
    return list(rows.scalars())


class TestTransition:
    async def test_a_change_is_on_the_timeline_and_published_to_subscribers(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        assert (payment.status, payment.sequence) == (S.sent, 1)
        steps = [(e.from_status, e.to_status) for e in await timeline(db_session, payment)]
        assert steps == [(None, S.pending), (S.pending, S.sent)]
        assert await published(db_session, payment) == ["payment.sent"]

    async def test_a_status_the_lifecycle_forbids_is_refused(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await pending_payment(db_session, settings)
        with pytest.raises(IllegalTransition, match="a pending payment cannot become completed"):
            await lifecycle.transition(
                db_session,
                payment=payment,
                to=S.completed,
                actor=lifecycle.SYSTEM,
                customer_message=messages.PAID,
                settings=settings,
            )
        assert payment.status == S.pending

    async def test_a_final_status_ends_monitoring(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        assert payment.next_check_at is not None
        await settle(db_session, payment, settings, "1")
        assert payment.settled_at is not None
        assert payment.next_check_at is None


class TestSettle:
    async def test_a_failure_settles_with_its_reason_and_sentence(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        assert await settle(db_session, payment, settings, "1032") == "applied"
        assert (payment.status, payment.reason, payment.result_code) == (
            S.cancelled,
            "customer_cancelled",
            "1032",
        )
        assert payment.customer_message == "You cancelled the M-Pesa prompt."
        assert await published(db_session, payment) == ["payment.sent", "payment.cancelled"]

    async def test_a_success_records_its_receipt(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        assert await settle(db_session, payment, settings, "0", RECEIPT) == "applied"
        assert (payment.status, payment.receipt_number, payment.reason) == (
            S.completed,
            RECEIPT,
            None,
        )
        assert payment.customer_message == messages.paid(RECEIPT)

    async def test_still_processing_changes_nothing(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        assert await settle(db_session, payment, settings, "4999") == "ignored"
        assert (payment.status, payment.sequence) == (S.sent, 1)

    async def test_the_same_failure_twice_is_a_duplicate(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        await settle(db_session, payment, settings, "1")
        assert await settle(db_session, payment, settings, "2001") == "duplicate"
        assert (payment.status, payment.result_code) == (S.failed, "1")

    async def test_another_failure_after_a_failure_is_kept_as_a_contradiction(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        await settle(db_session, payment, settings, "1")
        assert await settle(db_session, payment, settings, "1032") == "contradiction"
        assert payment.status == S.failed
        last = (await timeline(db_session, payment))[-1]
        assert (last.reason, last.to_status, last.detail["says"]) == (
            "contradiction_ignored",
            S.failed,
            "1032",
        )

    @pytest.mark.parametrize("code", ["1", "1032", "1037"])
    async def test_completed_is_never_left(
        self, db_session: AsyncSession, settings: Settings, code: str
    ) -> None:
        payment = await sent_payment(db_session, settings)
        await settle(db_session, payment, settings, "0", RECEIPT)
        assert await settle(db_session, payment, settings, code) == "contradiction"
        assert (payment.status, payment.receipt_number) == (S.completed, RECEIPT)

    async def test_another_receipt_for_a_completed_payment_is_a_contradiction(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        await settle(db_session, payment, settings, "0", RECEIPT)
        assert await settle(db_session, payment, settings, "0", "OTHER12345") == "contradiction"
        assert payment.receipt_number == RECEIPT

    async def test_the_same_success_again_is_a_duplicate(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        await settle(db_session, payment, settings, "0", RECEIPT)
        assert await settle(db_session, payment, settings, "0", RECEIPT) == "duplicate"
        assert payment.sequence == 2

    async def test_a_receipt_after_a_query_proved_payment_is_recorded_and_published(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        await settle(db_session, payment, settings, "0")  # a query: no receipt
        assert payment.customer_message == messages.PAID
        assert await settle(db_session, payment, settings, "0", RECEIPT) == "applied"
        assert (payment.receipt_number, payment.sequence) == (RECEIPT, 3)
        assert payment.customer_message == messages.paid(RECEIPT)
        assert (await timeline(db_session, payment))[-1].reason == "receipt_recorded"
        assert await published(db_session, payment) == [
            "payment.sent",
            "payment.completed",
            "payment.completed",
        ]

    async def test_a_pending_payment_proven_paid_is_recorded_sent_first(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await pending_payment(db_session, settings)
        assert await settle(db_session, payment, settings, "0", RECEIPT) == "applied"
        steps = [
            (e.to_status, e.detail.get("inferred")) for e in await timeline(db_session, payment)
        ]
        assert steps == [(S.pending, None), (S.sent, True), (S.completed, None)]
        assert payment.pushed_at is not None


class TestLateSuccess:
    @pytest.mark.parametrize(
        ("code", "failed_as"), [("1", S.failed), ("1032", S.cancelled), ("1037", S.timeout)]
    )
    async def test_proof_of_payment_after_a_failure_completes_the_payment(
        self, db_session: AsyncSession, settings: Settings, code: str, failed_as: PaymentStatus
    ) -> None:
        payment = await sent_payment(db_session, settings)
        await settle(db_session, payment, settings, code)
        assert payment.status == failed_as
        assert await settle(db_session, payment, settings, "0", RECEIPT) == "applied"
        assert (payment.status, payment.reason, payment.receipt_number) == (
            S.completed,
            lifecycle.LATE_SUCCESS,
            RECEIPT,
        )
        last = (await timeline(db_session, payment))[-1]
        assert (last.from_status, last.to_status, last.reason) == (
            failed_as,
            S.completed,
            lifecycle.LATE_SUCCESS,
        )


class TestHold:
    async def test_a_hold_stops_monitoring_and_is_on_the_timeline(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        await lifecycle.hold(
            db_session,
            payment=payment,
            review_reason="amount_mismatch",
            actor=lifecycle.CALLBACK,
            detail={"note": "asked KES 1500, callback says 15"},
        )
        assert (payment.status, payment.review_reason, payment.next_check_at) == (
            S.sent,
            "amount_mismatch",
            None,
        )
        assert (await timeline(db_session, payment))[-1].reason == "held_amount_mismatch"

    async def test_daraja_final_answer_releases_the_hold(
        self, db_session: AsyncSession, settings: Settings
    ) -> None:
        payment = await sent_payment(db_session, settings)
        await lifecycle.hold(
            db_session,
            payment=payment,
            review_reason="phone_mismatch",
            actor=lifecycle.CALLBACK,
            detail={},
        )
        assert await settle(db_session, payment, settings, "0") == "applied"
        assert (payment.status, payment.review_reason) == (S.completed, None)
        reasons = [e.reason for e in await timeline(db_session, payment)]
        assert reasons[-3:] == ["held_phone_mismatch", "hold_released", None]
