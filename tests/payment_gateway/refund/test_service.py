"""Refunds on the service level, each test in one rolled-back transaction: one refund per
payment, the Reversal request between two units of work, its result through the inbox, and
what is tried again (transient errors, queue timeouts) versus what is a verdict (a result code).
The whole flow against the simulator is in `test_flows.py`."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import DarajaRejected, DarajaUnavailable, ResultAck
from payment_gateway.models import EventSource, Payment, PaymentStatus, Refund, RefundState
from payment_gateway.payment import lifecycle
from payment_gateway.refund import service
from payment_gateway.refund.exceptions import NotRefundable, UnknownReversalUrl
from shared import jobs
from tests.payment_gateway.payment.test_lifecycle import (
    published,
    sent_payment,
    settle,
    timeline,
)

S = PaymentStatus
R = RefundState
STAFF = lifecycle.Actor(EventSource.admin, "user:u-7", user_id="u-7", via="session-api")
ACK = ResultAck.model_validate(
    {
        "OriginatorConversationID": "5118-111210482-1",
        "ConversationID": "AG_20261201_0000b8f5e5b1f2a7c3d1",
        "ResponseCode": "0",
        "ResponseDescription": "Accept the service request successfully.",
    }
)


@pytest.fixture
def settings() -> Settings:
    return Settings()


async def completed(session: AsyncSession, settings: Settings) -> Payment:
    payment = await sent_payment(session, settings)
    await settle(session, payment, settings, "0", receipt="UR" + secrets.token_hex(4).upper())
    await session.flush()
    return payment


async def requested(
    session: AsyncSession, settings: Settings, payment: Payment | None = None
) -> tuple[Refund, Payment]:
    payment = payment or await completed(session, settings)
    refund, payment, _ = await service.request(
        session, payment_id=payment.id, reason="paid twice", actor=STAFF, settings=settings
    )
    await session.flush()
    return refund, payment


async def asked(session: AsyncSession, settings: Settings) -> tuple[Refund, Payment, str]:
    """A refund Daraja accepted; the ResultURL's token."""
    refund, payment = await requested(session, settings)
    order = await claim(session, refund, 1, settings)
    assert await service.record_sent(session, order=order, result=ACK, settings=settings) == R.asked
    await session.flush()
    return refund, payment, order.token


async def claim(
    session: AsyncSession, refund: Refund, attempt: int, settings: Settings
) -> service.ReversalOrder:
    """Request `attempt`, committed as the job's first unit of work would be."""
    order = await service.prepare(session, refund_id=refund.id, attempt=attempt, settings=settings)
    assert order is not None
    await session.flush()
    return order


async def answer(
    session: AsyncSession,
    settings: Settings,
    token: str,
    body: dict[str, Any],
    kind: str = "result",
) -> str | None:
    """Post a result to the refund's URL and apply it, as the endpoint and the job do."""
    jobs.discard(session)
    await service.receive(
        session, token=token, kind=kind, body=json.dumps(body).encode(), settings=settings
    )
    [job] = [j for j in jobs.pending(session) if j.name == service.RESULT_TASK]
    return await service.process(session, inbox_id=job.args[0], settings=settings)


def result(code: int | str, **extra: Any) -> dict[str, Any]:
    return {
        "Result": {
            "ResultType": 0,
            "ResultCode": code,
            "ResultDesc": "The service request is processed successfully."
            if code == 0
            else "The OriginalTransactionID is invalid.",
            "OriginatorConversationID": "5118-111210482-1",
            "ConversationID": "AG_20261201_0000b8f5e5b1f2a7c3d1",
            "TransactionID": "URV0000001",
            **extra,
        }
    }


async def test_a_refund_moves_the_payment_to_refund_pending_and_queues_one_reversal(
    db_session: AsyncSession, settings: Settings
) -> None:
    payment = await completed(db_session, settings)
    jobs.discard(db_session)

    refund, payment = await requested(db_session, settings, payment)

    assert (refund.state, refund.amount, refund.receipt_number) == (
        R.requested,
        payment.amount,
        payment.receipt_number,
    )
    assert refund.requested_by == "user:u-7"
    assert payment.status == S.refund_pending
    assert [j.args for j in jobs.pending(db_session) if j.name == service.REVERSE_TASK] == [
        (str(refund.id), 1)
    ]
    assert (await published(db_session, payment))[-1] == "payment.refund_pending"
    last = (await timeline(db_session, payment))[-1]
    assert (last.to_status, last.source, last.actor, last.note) == (
        S.refund_pending,
        "admin",
        "user:u-7",
        "paid twice",
    )


async def test_asking_again_returns_the_refund_and_sends_nothing(
    db_session: AsyncSession, settings: Settings
) -> None:
    first, payment = await requested(db_session, settings)
    jobs.discard(db_session)

    again, _, created = await service.request(
        db_session, payment_id=payment.id, reason="again", actor=STAFF, settings=settings
    )

    assert (again.id, created) == (first.id, False)
    assert again.reason == "paid twice"
    assert [j for j in jobs.pending(db_session) if j.name == service.REVERSE_TASK] == []


async def test_only_a_completed_payment_is_refunded(
    db_session: AsyncSession, settings: Settings
) -> None:
    payment = await sent_payment(db_session, settings)
    await db_session.flush()

    with pytest.raises(NotRefundable, match="is sent; only a completed payment"):
        await requested(db_session, settings, payment)


async def test_a_success_refunds_the_payment(db_session: AsyncSession, settings: Settings) -> None:
    refund, payment, token = await asked(db_session, settings)

    assert await answer(db_session, settings, token, result(0)) == R.refunded

    assert (refund.state, refund.reversal_transaction_id) == (R.refunded, "URV0000001")
    assert refund.finished_at is not None
    assert (payment.status, payment.reason) == (S.refunded, None)
    assert (
        payment.customer_message == f"KES {payment.amount:,} was refunded to your M-Pesa account."
    )
    assert (await published(db_session, payment))[-1] == "payment.refunded"


async def test_already_reversed_is_refunded_too(
    db_session: AsyncSession, settings: Settings
) -> None:
    refund, payment, token = await asked(db_session, settings)

    await answer(db_session, settings, token, result("R000001"))

    assert (refund.state, payment.status) == (R.refunded, S.refunded)


async def test_a_refusal_fails_the_refund_with_its_reason(
    db_session: AsyncSession, settings: Settings
) -> None:
    refund, payment, token = await asked(db_session, settings)

    assert await answer(db_session, settings, token, result("R000002")) == R.failed

    assert (refund.failure_reason, refund.result_code) == (
        "invalid_original_transaction",
        "R000002",
    )
    assert (payment.status, payment.reason) == (S.refund_failed, "invalid_original_transaction")
    assert (await published(db_session, payment))[-1] == "payment.refund_failed"


async def test_a_queue_timeout_is_sent_again_not_a_verdict(
    db_session: AsyncSession, settings: Settings
) -> None:
    refund, payment, token = await asked(db_session, settings)

    outcome = await answer(db_session, settings, token, result(100000001), kind="timeout")

    assert outcome == "timed_out"
    assert (refund.state, payment.status) == (R.requested, S.refund_pending)
    [job] = [j for j in jobs.pending(db_session) if j.name == service.REVERSE_TASK]
    assert job.args == (str(refund.id), 2)
    assert job.kwargs["_defer_by"] > 0
    order = await service.prepare(db_session, refund_id=refund.id, attempt=2, settings=settings)
    assert order is not None and order.token != token


async def test_queue_timeouts_end_in_failure_when_attempts_run_out(
    db_session: AsyncSession, settings: Settings
) -> None:
    settings = settings.model_copy(update={"REVERSAL_MAX_ATTEMPTS": 1})
    refund, payment, token = await asked(db_session, settings)

    await answer(db_session, settings, token, result(100000001), kind="timeout")

    assert (refund.state, refund.failure_reason) == (R.failed, "no_result")
    assert payment.status == S.refund_failed


async def test_a_transient_error_is_sent_again_with_backoff(
    db_session: AsyncSession, settings: Settings
) -> None:
    refund, payment = await requested(db_session, settings)
    order = await claim(db_session, refund, 1, settings)
    jobs.discard(db_session)

    error = DarajaUnavailable("503 from the load balancer", maybe_processed=False, http_status=503)
    state = await service.record_sent(db_session, order=order, result=error, settings=settings)

    assert (state, refund.state, payment.status) == (R.requested, R.requested, S.refund_pending)
    [job] = [j for j in jobs.pending(db_session) if j.name == service.REVERSE_TASK]
    assert job.args == (str(refund.id), 2)
    # The job of an attempt that was made already does nothing.
    assert (
        await service.prepare(db_session, refund_id=refund.id, attempt=1, settings=settings) is None
    )


async def test_a_rejected_request_fails_the_refund(
    db_session: AsyncSession, settings: Settings
) -> None:
    refund, payment = await requested(db_session, settings)
    order = await claim(db_session, refund, 1, settings)

    error = DarajaRejected(
        "Bad Request - Invalid Initiator", http_status=400, error_code="400.002.02"
    )
    await service.record_sent(db_session, order=order, result=error, settings=settings)

    assert (refund.state, refund.failure_reason, refund.result_code) == (
        R.failed,
        "daraja_rejected",
        "400.002.02",
    )
    assert payment.status == S.refund_failed


async def test_a_result_for_an_unknown_url_is_refused(
    db_session: AsyncSession, settings: Settings
) -> None:
    with pytest.raises(UnknownReversalUrl):
        await service.receive(
            db_session, token="deadbeef", kind="result", body=b"{}", settings=settings
        )


async def test_a_repeated_result_is_applied_once(
    db_session: AsyncSession, settings: Settings
) -> None:
    _, payment, token = await asked(db_session, settings)
    await answer(db_session, settings, token, result(0))
    jobs.discard(db_session)

    await service.receive(
        db_session,
        token=token,
        kind="result",
        body=json.dumps(result(0)).encode(),
        settings=settings,
    )

    assert [j for j in jobs.pending(db_session) if j.name == service.RESULT_TASK] == []
    assert payment.status == S.refunded


async def test_a_late_callback_for_a_refunded_payment_changes_nothing(
    db_session: AsyncSession, settings: Settings
) -> None:
    _, payment, token = await asked(db_session, settings)
    await answer(db_session, settings, token, result(0))

    assert await settle(db_session, payment, settings, "0", receipt=payment.receipt_number) == (
        "duplicate"
    )
    assert await settle(db_session, payment, settings, "1032") == "contradiction"
    assert payment.status == S.refunded


async def test_the_sweep_sends_again_a_refund_whose_job_or_result_was_lost(
    db_session: AsyncSession, settings: Settings
) -> None:
    lost_job, _ = await requested(db_session, settings)
    lost_result, _, _ = await asked(db_session, settings)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    lost_job.next_attempt_at = lost_result.next_attempt_at = long_ago
    await db_session.flush()
    jobs.discard(db_session)

    await service.resume_overdue(db_session, settings=settings)

    queued = {j.args for j in jobs.pending(db_session) if j.name == service.REVERSE_TASK}
    assert {(str(lost_job.id), 1), (str(lost_result.id), 2)} <= queued


async def test_a_refund_sent_as_often_as_allowed_without_a_result_fails(
    db_session: AsyncSession, settings: Settings
) -> None:
    settings = settings.model_copy(update={"REVERSAL_MAX_ATTEMPTS": 1})
    refund, payment, _ = await asked(db_session, settings)

    order = await service.prepare(db_session, refund_id=refund.id, attempt=2, settings=settings)

    assert order is None
    assert (refund.state, refund.failure_reason) == (R.failed, "no_result")
    assert payment.status == S.refund_failed
