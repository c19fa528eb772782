"""Staff resolving what reconciliation could not: each action lands on the payment's timeline
with the person who took it; attaching money to an unpaid payment completes it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.models import (
    PaymentEvent,
    PaymentStatus,
    ReconciliationException,
    RecordSource,
    ResolveAction,
)
from payment_gateway.reconciliation import service
from payment_gateway.reconciliation.exceptions import (
    ExceptionAlreadyResolved,
    InvalidResolution,
)
from tests.payment_gateway.reconciliation.ledger import Ledger, Window, receipt

S = PaymentStatus
R = RecordSource


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def ledger(db_session: AsyncSession, settings: Settings) -> Ledger:
    return Ledger(db_session, settings, Window.fresh())


async def only_exception(ledger: Ledger, run_id: object) -> ReconciliationException:
    result = await ledger.session.execute(
        select(ReconciliationException).where(ReconciliationException.run_id == run_id)
    )
    [exception] = result.scalars().all()
    return exception


async def test_attaching_money_to_an_unpaid_payment_completes_it_on_staffs_word(
    ledger: Ledger, settings: Settings
) -> None:
    payment = await ledger.payment(S.timeout, amount=900, reference="OTHER-REF")
    number = receipt()
    await ledger.record(R.statement, receipt=number, amount=900, reference="TYPO-REF")
    run = await ledger.reconcile(R.statement)
    exception = await only_exception(ledger, run.id)

    resolved = await service.resolve_exception(
        ledger.session,
        exception_id=exception.id,
        action=ResolveAction.attach_to_payment,
        note="customer typed the reference wrong; confirmed by phone",
        actor="staff:amina",
        payment_id=payment.id,
        settings=settings,
    )

    assert (resolved.status, resolved.resolved_by, resolved.payment_id) == (
        "resolved",
        "staff:amina",
        payment.id,
    )
    assert (payment.status, payment.receipt_number) == (S.completed, number)
    events = (
        (
            await ledger.session.execute(
                select(PaymentEvent)
                .where(PaymentEvent.payment_id == payment.id, PaymentEvent.source == "admin")
                .order_by(PaymentEvent.id)
            )
        )
        .scalars()
        .all()
    )
    assert (events[0].reason, events[0].actor) == (
        "reconciliation_attach_to_payment",
        "staff:amina",
    )
    assert events[0].detail["note"].startswith("customer typed")
    assert events[-1].to_status == S.completed


async def test_an_exception_is_resolved_once(ledger: Ledger, settings: Settings) -> None:
    payment = await ledger.payment(S.completed, paid_with=receipt())
    run = await ledger.reconcile(R.statement)
    exception = await only_exception(ledger, run.id)
    await service.resolve_exception(
        ledger.session,
        exception_id=exception.id,
        action=ResolveAction.refund_needed,
        note="refund through the org portal",
        actor="staff:otieno",
        payment_id=None,
        settings=settings,
    )

    with pytest.raises(ExceptionAlreadyResolved):
        await service.resolve_exception(
            ledger.session,
            exception_id=exception.id,
            action=ResolveAction.ignore,
            note="again",
            actor="staff:otieno",
            payment_id=None,
            settings=settings,
        )
    assert payment.status == S.completed


async def test_attaching_needs_the_payment(ledger: Ledger, settings: Settings) -> None:
    await ledger.record(R.statement, receipt=receipt(), reference="NOBODY")
    run = await ledger.reconcile(R.statement)
    exception = await only_exception(ledger, run.id)

    with pytest.raises(InvalidResolution, match="payment_id"):
        await service.resolve_exception(
            ledger.session,
            exception_id=exception.id,
            action=ResolveAction.attach_to_payment,
            note="?",
            actor="staff:amina",
            payment_id=None,
            settings=settings,
        )
