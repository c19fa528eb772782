"""Every verdict on the service level, each test in one rolled-back transaction and a window of
its own: the rules of `reconciliation.matching` applied by `reconciliation.runs`, with the
payment lifecycle doing every settlement."""

from __future__ import annotations

import secrets

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import DEV_WEBHOOK_URL, Settings, WebhookEndpoint
from payment_gateway.models import (
    EventDelivery,
    OutboxEvent,
    PaymentEvent,
    PaymentStatus,
    ReconciliationException,
    RecordSource,
    RunStatus,
    StatusQuery,
)
from payment_gateway.models import StatusQueryState as Q
from payment_gateway.models import Verdict as V
from payment_gateway.payment import lifecycle
from payment_gateway.reconciliation import runs
from shared.webhook_signing import DEV_WEBHOOK_SECRET
from tests.payment_gateway.reconciliation.ledger import Ledger, Window, receipt

S = PaymentStatus
R = RecordSource


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def ledger(db_session: AsyncSession, settings: Settings) -> Ledger:
    return Ledger(db_session, settings, Window.fresh())


async def open_exceptions(session: AsyncSession, run_id: object) -> list[ReconciliationException]:
    result = await session.execute(
        select(ReconciliationException).where(ReconciliationException.run_id == run_id)
    )
    return list(result.scalars())


async def timeline(session: AsyncSession, payment_id: object) -> list[PaymentEvent]:
    result = await session.execute(
        select(PaymentEvent).where(PaymentEvent.payment_id == payment_id).order_by(PaymentEvent.id)
    )
    return list(result.scalars())


async def test_a_completed_payment_listed_by_the_statement_is_matched(ledger: Ledger) -> None:
    number = receipt()
    payment = await ledger.payment(S.completed, paid_with=number)
    await ledger.record(R.statement, receipt=number)

    run = await ledger.reconcile(R.statement)

    assert run.status == RunStatus.completed
    assert await ledger.verdict_of(run, payment) == V.matched
    assert run.summary[V.matched] == 1
    assert await open_exceptions(ledger.session, run.id) == []


async def test_a_timed_out_payment_m_pesa_shows_paid_is_settled_late(ledger: Ledger) -> None:
    payment = await ledger.payment(S.timeout)
    number = receipt()
    await ledger.record(
        R.transaction_status, receipt=number, checkout_request_id=payment.checkout_request_id
    )

    run = await ledger.reconcile(R.transaction_status)

    assert await ledger.verdict_of(run, payment) == V.settled_late
    assert (payment.status, payment.receipt_number) == (S.completed, number)
    last = (await timeline(ledger.session, payment.id))[-1]
    assert (last.from_status, last.to_status, last.reason, last.source) == (
        S.timeout,
        S.completed,
        "late_success",
        "reconciliation",
    )
    events = await ledger.session.execute(
        select(OutboxEvent.type).where(OutboxEvent.payment_id == payment.id)
    )
    assert events.scalars().all()[-1] == "payment.completed"


async def test_a_sent_payment_stk_query_proves_paid_is_settled_late(ledger: Ledger) -> None:
    payment = await ledger.payment(S.sent)
    run = await ledger.request(R.stk_query)
    await ledger.record(
        R.stk_query, receipt=None, checkout_request_id=payment.checkout_request_id, run_id=run.id
    )

    run = await ledger.run(run)

    assert await ledger.verdict_of(run, payment) == V.settled_late
    assert payment.status == S.completed
    assert (await timeline(ledger.session, payment.id))[-1].reason == "late_success"


async def test_an_open_payment_stk_query_says_failed_settles_failed_and_matches(
    ledger: Ledger,
) -> None:
    payment = await ledger.payment(S.sent)
    run = await ledger.request(R.stk_query)
    await ledger.record(
        R.stk_query,
        receipt=None,
        checkout_request_id=payment.checkout_request_id,
        run_id=run.id,
        result_code="1032",
    )

    run = await ledger.run(run)

    assert await ledger.verdict_of(run, payment) == V.matched
    assert payment.status == S.cancelled


async def test_money_paid_by_hand_completes_the_open_payment_with_its_reference(
    ledger: Ledger,
) -> None:
    payment = await ledger.payment(S.timeout, amount=700, reference="BK-7")
    number = receipt()
    await ledger.record(R.statement, receipt=number, amount=700, reference="bk-7")

    run = await ledger.reconcile(R.statement)

    item = await ledger.verdict_for_receipt(run, number)
    assert (item.verdict, item.payment_id) == (V.matched_by_reference, payment.id)
    assert (payment.status, payment.receipt_number) == (S.completed, number)


async def test_the_phones_last_digits_break_a_tie_between_open_payments(ledger: Ledger) -> None:
    first = await ledger.payment(S.timeout, amount=700, reference="BK-8", minute=5)
    second = await ledger.payment(S.timeout, amount=700, reference="BK-8", minute=6)
    number = receipt()
    await ledger.record(
        R.statement, receipt=number, amount=700, reference="BK-8", phone_tail=second.phone[-3:]
    )

    run = await ledger.reconcile(R.statement)

    assert (await ledger.verdict_for_receipt(run, number)).payment_id == second.id
    assert (first.status, second.status) == (S.timeout, S.completed)


async def test_money_two_open_payments_could_own_is_left_to_a_person(ledger: Ledger) -> None:
    first = await ledger.payment(S.timeout, amount=700, reference="BK-9", minute=5)
    second = await ledger.payment(S.timeout, amount=700, reference="BK-9", minute=6)
    number = receipt()
    await ledger.record(R.statement, receipt=number, amount=700, reference="BK-9")

    run = await ledger.reconcile(R.statement)

    assert (await ledger.verdict_for_receipt(run, number)).verdict == V.unmatched_mpesa
    assert (first.status, second.status) == (S.timeout, S.timeout)
    assert [e.verdict for e in await open_exceptions(ledger.session, run.id)] == [V.unmatched_mpesa]


async def test_a_completed_payment_no_source_lists_is_missing_in_mpesa(ledger: Ledger) -> None:
    payment = await ledger.payment(S.completed, paid_with=receipt())

    run = await ledger.reconcile(R.statement)

    assert await ledger.verdict_of(run, payment) == V.missing_in_mpesa
    assert payment.status == S.completed  # never downgraded
    [exception] = await open_exceptions(ledger.session, run.id)
    assert (exception.verdict, exception.payment_id, exception.status) == (
        V.missing_in_mpesa,
        payment.id,
        "open",
    )


async def test_a_completed_payment_transaction_status_never_answered_is_not_missing(
    ledger: Ledger,
) -> None:
    unanswered = await ledger.payment(S.completed, paid_with=receipt())
    not_found = await ledger.payment(S.completed, paid_with=receipt(), minute=20)
    run = await ledger.request(R.transaction_status)
    for payment, state in ((unanswered, Q.timed_out), (not_found, Q.answered)):
        ledger.session.add(
            StatusQuery(
                run_id=run.id,
                payment_id=payment.id,
                token_hash=secrets.token_hex(32),
                receipt=payment.receipt_number,
                state=state,
                attempts=3,
                result_code="1" if state == Q.answered else None,
            )
        )
    await ledger.session.flush()

    run = await ledger.run(run)

    assert run.status == RunStatus.completed
    # A queue timeout is no answer: no verdict, pending verification, no exception.
    assert [i for i in await ledger.items(run) if i.payment_id == unanswered.id] == []
    assert await ledger.verdict_of(run, not_found) == V.missing_in_mpesa
    assert (run.summary["pending_verification"], run.summary[V.missing_in_mpesa]) == (1, 1)
    assert run.source_results["transaction_status"]["pending_verification"] == 1
    assert [e.payment_id for e in await open_exceptions(ledger.session, run.id)] == [not_found.id]


async def test_money_nothing_here_matches_is_unmatched(ledger: Ledger) -> None:
    number = receipt()
    await ledger.record(R.pull, receipt=number, reference="NOBODY")

    run = await ledger.reconcile(R.pull)

    item = await ledger.verdict_for_receipt(run, number)
    assert (item.verdict, item.payment_id) == (V.unmatched_mpesa, None)
    assert len(await open_exceptions(ledger.session, run.id)) == 1


async def test_another_amount_for_the_receipt_is_a_mismatch_and_never_downgrades(
    ledger: Ledger,
) -> None:
    number = receipt()
    payment = await ledger.payment(S.completed, amount=1500, paid_with=number)
    await ledger.record(R.statement, receipt=number, amount=1400)

    run = await ledger.reconcile(R.statement)

    item = await ledger.verdict_for_receipt(run, number)
    assert (item.verdict, item.amount, item.mpesa_amount) == (V.amount_mismatch, 1500, 1400)
    assert (payment.status, payment.receipt_number) == (S.completed, number)


async def test_a_receipt_proving_one_push_but_recorded_on_another_is_a_duplicate(
    ledger: Ledger,
) -> None:
    number = receipt()
    owner = await ledger.payment(S.completed, paid_with=number)
    proven = await ledger.payment(S.timeout)
    await ledger.record(
        R.transaction_status, receipt=number, checkout_request_id=proven.checkout_request_id
    )

    run = await ledger.reconcile(R.transaction_status)

    item = await ledger.verdict_for_receipt(run, number)
    assert (item.verdict, item.payment_id, item.related_payment_id) == (
        V.duplicate_receipt,
        proven.id,
        owner.id,
    )
    assert proven.status == S.timeout  # credited by a person, not by us


async def test_money_by_hand_for_a_payment_already_paid_is_paid_twice(ledger: Ledger) -> None:
    first = receipt()
    payment = await ledger.payment(S.completed, amount=500, reference="ORD-9", paid_with=first)
    await ledger.record(R.statement, receipt=first, amount=500, reference="ORD-9")
    second = receipt()
    await ledger.record(R.statement, receipt=second, amount=500, reference="ORD-9", minute=30)

    run = await ledger.reconcile(R.statement)

    assert (await ledger.verdict_for_receipt(run, first)).verdict == V.matched
    again = await ledger.verdict_for_receipt(run, second)
    assert (again.verdict, again.related_payment_id) == (V.paid_twice, payment.id)


async def test_two_completed_payments_of_one_payable_are_paid_twice(ledger: Ledger) -> None:
    payable = {"payable_type": "booking", "payable_id": "b8f1c9c2-0d4e-4a57-9c59-1f0fb1e5a001"}
    one, two = receipt(), receipt()
    earlier = await ledger.payment(S.completed, paid_with=one, metadata=payable, minute=5)
    later = await ledger.payment(S.completed, paid_with=two, metadata=payable, minute=15)
    await ledger.record(R.statement, receipt=one)
    await ledger.record(R.statement, receipt=two)

    run = await ledger.reconcile(R.statement)

    assert await ledger.verdict_of(run, earlier) == V.matched
    item = await ledger.verdict_for_receipt(run, two)
    assert (item.verdict, item.payment_id, item.related_payment_id) == (
        V.paid_twice,
        later.id,
        earlier.id,
    )


async def test_every_payment_and_receipt_gets_exactly_one_verdict(ledger: Ledger) -> None:
    paid = receipt()
    matched = await ledger.payment(S.completed, paid_with=paid, minute=1)
    failed = await ledger.payment(S.failed, minute=2)
    late = await ledger.payment(S.cancelled, minute=3)
    late_receipt, stray = receipt(), receipt()
    await ledger.record(R.statement, receipt=paid)
    await ledger.record(R.pull, receipt=paid)  # the same money from a second source
    await ledger.record(
        R.transaction_status, receipt=late_receipt, checkout_request_id=late.checkout_request_id
    )
    await ledger.record(R.pull, receipt=stray, reference="NOBODY")

    run = await ledger.reconcile(R.statement, R.pull, R.transaction_status)

    items = await ledger.items(run)
    by_payment = {i.payment_id: i.verdict for i in items if i.payment_id}
    assert by_payment == {matched.id: V.matched, failed.id: V.matched, late.id: V.settled_late}
    assert sorted(i.receipt for i in items if i.receipt) == sorted([paid, late_receipt, stray])
    assert len(items) == 4
    assert sum(run.summary.values()) == 4


async def test_a_second_request_for_the_window_answers_with_the_same_run(ledger: Ledger) -> None:
    first = await ledger.request(R.statement, R.pull)
    again = await ledger.request(R.pull, R.statement, R.pull)
    other = await ledger.request(R.statement)

    assert again.id == first.id
    assert other.id != first.id


async def test_a_run_killed_mid_way_resumes_and_applies_nothing_twice(
    ledger: Ledger, settings: Settings
) -> None:
    settings.RECONCILIATION_BATCH_SIZE = 1
    payments = [await ledger.payment(S.timeout, minute=m) for m in (1, 2, 3)]
    numbers = [receipt() for _ in payments]
    for payment, number in zip(payments, numbers, strict=True):
        await ledger.record(
            R.transaction_status, receipt=number, checkout_request_id=payment.checkout_request_id
        )
    run = await ledger.request(R.transaction_status)
    await ledger.skip_asking(run)

    await runs.advance(ledger.session, run_id=run.id, settings=settings)
    # A worker dies during the second batch: its transaction rolls back, with the checkpoint.
    crashed = await ledger.session.begin_nested()
    await runs.advance(ledger.session, run_id=run.id, settings=settings)
    await crashed.rollback()
    await ledger.session.refresh(run)
    run = await ledger.run(run)

    assert run.status == RunStatus.completed
    assert run.summary[V.settled_late] == 3
    for payment in payments:
        await ledger.session.refresh(payment)
        assert payment.status == S.completed
        late = [e for e in await timeline(ledger.session, payment.id) if e.reason == "late_success"]
        assert len(late) == 1


async def test_a_completed_run_tells_the_subscribers_that_take_it(
    ledger: Ledger, settings: Settings
) -> None:
    ops = WebhookEndpoint(
        url="http://ops.test/hooks",
        secret=SecretStr(DEV_WEBHOOK_SECRET),
        types=["reconciliation.*"],
    )
    payments_only = WebhookEndpoint(
        url="http://shop.test/hooks", secret=SecretStr(DEV_WEBHOOK_SECRET)
    )  # `payment.*` by default
    # The default endpoint (session-api) takes it too: it emails staff about open exceptions.
    settings.WEBHOOK_ENDPOINTS = [*settings.WEBHOOK_ENDPOINTS, ops, payments_only]
    await ledger.record(R.pull, receipt=receipt(), reference="NOBODY")

    run = await ledger.reconcile(R.pull)

    event = (
        await ledger.session.execute(
            select(OutboxEvent).where(OutboxEvent.payload["data"]["id"].astext == str(run.id))
        )
    ).scalar_one()
    assert event.type == "reconciliation.completed"
    assert event.payload["data"]["summary"][V.unmatched_mpesa] == 1
    assert event.payload["data"]["open_exceptions"] == 1
    deliveries = await ledger.session.execute(
        select(EventDelivery.endpoint_url).where(EventDelivery.event_id == event.id)
    )
    assert sorted(deliveries.scalars().all()) == sorted([DEV_WEBHOOK_URL, ops.url])


async def test_a_pull_receipt_for_a_push_stk_query_proved_settles_it_late_with_the_receipt(
    ledger: Ledger,
) -> None:
    payment = await ledger.payment(S.timeout, amount=450, reference="BK-42")
    run = await ledger.request(R.stk_query, R.pull)
    await ledger.record(
        R.stk_query, receipt=None, checkout_request_id=payment.checkout_request_id, run_id=run.id
    )
    number = receipt()
    await ledger.record(
        R.pull, receipt=number, amount=450, reference="BK-42", phone_tail=payment.phone[-3:]
    )

    run = await ledger.run(run)

    item = await ledger.verdict_for_receipt(run, number)
    assert (item.verdict, item.payment_id) == (V.settled_late, payment.id)
    assert (payment.status, payment.receipt_number) == (S.completed, number)


async def test_a_refunded_payment_whose_receipt_m_pesa_lists_is_matched(ledger: Ledger) -> None:
    number = receipt()
    payment = await ledger.payment(S.completed, amount=1500, paid_with=number)
    for to in (S.refund_pending, S.refunded):
        await lifecycle.transition(
            ledger.session,
            payment=payment,
            to=to,
            actor=lifecycle.SYSTEM,
            customer_message="refund",
            settings=ledger.settings,
        )
    await ledger.record(R.statement, receipt=number, amount=1500)

    run = await ledger.reconcile(R.statement)

    assert (await ledger.verdict_for_receipt(run, number)).verdict == V.matched
    assert payment.status == S.refunded  # never moved back to completed
