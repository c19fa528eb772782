"""Payments and M-Pesa records for the reconciliation tests, written straight into the test's
rolled-back transaction, each test in a window of its own far in the past so nothing else the
database holds falls into it."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import outcome_for
from payment_gateway.models import (
    Payment,
    PaymentStatus,
    ReconciliationItem,
    ReconciliationRun,
    RecordSource,
    RunStatus,
)
from payment_gateway.payment import lifecycle, messages, service
from payment_gateway.payment.schemas import PaymentCreate
from payment_gateway.reconciliation import runs
from payment_gateway.reconciliation import service as reconciliation
from payment_gateway.reconciliation.repository import ItemRepository, RecordRepository

S = PaymentStatus


def receipt() -> str:
    return "UL" + secrets.token_hex(4).upper()


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @classmethod
    def fresh(cls) -> Window:
        # A random hour in 2001: no other test's payments or records fall into it.
        start = datetime(2001, 1, 1, tzinfo=UTC) + timedelta(hours=secrets.randbelow(8000))
        return cls(start, start + timedelta(hours=1))

    def at(self, minutes: float) -> datetime:
        return self.start + timedelta(minutes=minutes)


@dataclass
class Ledger:
    """One test's payments and records, in one window."""

    session: AsyncSession
    settings: Settings
    window: Window

    async def payment(
        self,
        status: PaymentStatus,
        *,
        amount: int = 1500,
        reference: str = "ACC-1",
        paid_with: str | None = None,
        metadata: dict[str, Any] | None = None,
        minute: float = 10,
    ) -> Payment:
        request = PaymentCreate(
            amount=amount,
            phone=f"07{secrets.randbelow(10**8):08d}",
            account_reference=reference,
            description="Reconcile",
            metadata=metadata or {},
        )
        payment, _ = await service.create(
            self.session, request=request, actor=lifecycle.SYSTEM, settings=self.settings
        )
        payment.created_at = self.window.at(minute)
        payment.checkout_request_id = f"ws_CO_{uuid.uuid4().hex[:20]}"
        if status != S.pending:
            await self._to(payment, S.sent)
        if status == S.completed:
            await self._settle(payment, "0", paid_with)
        elif status in (S.failed, S.cancelled, S.timeout):
            code = {S.failed: "1", S.cancelled: "1032", S.timeout: "1037"}[status]
            await self._settle(payment, code, None)
        await self.session.flush()
        return payment

    async def _to(self, payment: Payment, status: PaymentStatus) -> None:
        await lifecycle.transition(
            self.session,
            payment=payment,
            to=status,
            actor=lifecycle.SYSTEM,
            customer_message=messages.sent(payment.amount),
            settings=self.settings,
        )

    async def _settle(self, payment: Payment, code: str, paid_with: str | None) -> None:
        await lifecycle.settle(
            self.session,
            payment=payment,
            outcome=outcome_for(code),
            result_desc=f"answer {code}",
            receipt=paid_with,
            actor=lifecycle.CALLBACK,
            detail={},
            settings=self.settings,
        )

    async def record(
        self,
        source: RecordSource,
        *,
        receipt: str | None,
        amount: int = 1500,
        reference: str | None = None,
        phone_tail: str | None = None,
        checkout_request_id: str | None = None,
        minute: float = 20,
        run_id: uuid.UUID | None = None,
        result_code: str | None = "0",
    ) -> None:
        await RecordRepository.from_session(self.session).add_many(
            [
                {
                    "source": source,
                    "receipt": receipt,
                    "shortcode": self.settings.DARAJA_SHORTCODE,
                    "status": "completed",
                    "result_code": result_code,
                    "amount": amount,
                    "phone_tail": phone_tail,
                    "account_reference": reference,
                    "checkout_request_id": checkout_request_id,
                    "completed_at": self.window.at(minute),
                    "run_id": run_id,
                    "raw": {},
                }
            ]
        )

    async def request(self, *sources: RecordSource) -> ReconciliationRun:
        return await reconciliation.request_run(
            self.session,
            start=self.window.start,
            end=self.window.end,
            sources=list(sources),
            requested_by="test",
            settings=self.settings,
        )

    async def run(self, run: ReconciliationRun, *, steps: int = 50) -> ReconciliationRun:
        """Advance the run batch by batch, as its job does, until it ends. Sources that are
        asked (STK Query, Pull) are not: the test stored what they would have answered."""
        await self.skip_asking(run)
        for _ in range(steps):
            status = await runs.advance(self.session, run_id=run.id, settings=self.settings)
            if status in (RunStatus.completed, RunStatus.failed):
                break
        await self.session.refresh(run)
        return run

    async def skip_asking(self, run: ReconciliationRun) -> None:
        """Start a queued run at its judging phases."""
        if run.status == RunStatus.queued:
            run.status = RunStatus.running
            run.checkpoint = {"phase": runs.JUDGING[0], "after": None}
            await self.session.flush()

    async def reconcile(self, *sources: RecordSource) -> ReconciliationRun:
        return await self.run(await self.request(*sources))

    async def items(self, run: ReconciliationRun) -> list[ReconciliationItem]:
        return await ItemRepository.from_session(self.session).page(
            run_id=run.id, verdict=None, after=None, limit=1000
        )

    async def verdict_of(self, run: ReconciliationRun, payment: Payment) -> str:
        found = [i.verdict for i in await self.items(run) if i.payment_id == payment.id]
        assert len(found) == 1, f"payment {payment.id} has verdicts {found}"
        return found[0]

    async def verdict_for_receipt(self, run: ReconciliationRun, number: str) -> ReconciliationItem:
        found = [i for i in await self.items(run) if i.receipt == number]
        assert len(found) == 1, f"receipt {number} has {len(found)} verdicts"
        return found[0]
