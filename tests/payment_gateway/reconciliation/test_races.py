"""Reconciliation against a settlement under way at the same moment, on committed rows (each
side in its own transaction, as a worker and a callback would be)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import outcome_for
from payment_gateway.models import PaymentStatus, RecordSource, RunStatus, Verdict
from payment_gateway.payment import lifecycle
from payment_gateway.reconciliation import runs
from payment_gateway.reconciliation.ledger_repository import LedgerPaymentRepository
from shared import db
from tests.payment_gateway.reconciliation.ledger import Ledger, Window, receipt

S = PaymentStatus

WAITING_ON_A_LOCK = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


async def _waiting(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(WAITING_ON_A_LOCK))).scalar_one())


async def test_a_receipt_whose_payment_is_being_settled_is_never_judged_unmatched(
    clean_database: None, db_engine: AsyncEngine
) -> None:
    settings = Settings()
    window = Window.fresh()
    number = receipt()
    sessions = db.create_sessionmaker(db_engine)
    async with sessions() as session, db.unit_of_work(session, None):
        ledger = Ledger(session, settings, window)
        payment = await ledger.payment(S.sent, reference="ACC-1")
        # The statement line names another account: nothing but the receipt can match it.
        await ledger.record(RecordSource.statement, receipt=number, reference="ELSEWHERE")
        run = await ledger.request(RecordSource.statement)
        await ledger.skip_asking(run)

    async def judge() -> None:
        async with sessions() as session, db.unit_of_work(session, None):
            await runs.advance(session, run_id=run.id, settings=settings)

    async with sessions() as settling, db.unit_of_work(settling, None):
        # The callback's transaction: the payment settled with the receipt, not committed yet.
        locked = await LedgerPaymentRepository.from_session(settling).lock_where(
            LedgerPaymentRepository.model.id == payment.id
        )
        await lifecycle.settle(
            settling,
            payment=locked[0],
            outcome=outcome_for("0"),
            result_desc="answer 0",
            receipt=number,
            actor=lifecycle.CALLBACK,
            detail={},
            settings=settings,
        )
        await settling.flush()
        judging = asyncio.create_task(judge())
        # The judging phase must wait for this settlement (polled: a lock wait is not awaitable).
        for _ in range(2000):
            if judging.done() or await _waiting(db_engine):
                break
            await asyncio.sleep(0.005)
        assert not judging.done(), "the judging phase did not wait for the settlement"
    await judging

    async with sessions() as session, db.unit_of_work(session, None):
        ledger = Ledger(session, settings, window)
        run = await ledger.run(await ledger.request(RecordSource.statement))
        assert run.status == RunStatus.completed
        item = await ledger.verdict_for_receipt(run, number)
        assert (item.verdict, item.payment_id) == (Verdict.matched, payment.id)
        assert run.summary[Verdict.unmatched_mpesa] == 0
