"""What the control API does to the simulator's state."""

from __future__ import annotations

from datetime import date, datetime, time

from daraja_simulator import behaviours
from daraja_simulator.behaviours import Behaviour, CustomerAction
from daraja_simulator.callbacks import DeliveryAttempt
from daraja_simulator.clock import NAIROBI
from daraja_simulator.control.exceptions import (
    CheckoutNotFound,
    FaultNotFound,
    InvalidPeriod,
    PromptNotOpen,
    UnknownShortcode,
)
from daraja_simulator.control.schemas import (
    BehaviourTable,
    BehaviourView,
    CheckoutView,
    ClockView,
    DeliveryAttemptList,
    DeliveryAttemptView,
    FaultIn,
    FaultView,
    LedgerEntryView,
    LedgerList,
    PhoneBehaviour,
    RequestList,
    RequestView,
)
from daraja_simulator.faults import Fault
from daraja_simulator.ledger import LedgerEntry
from daraja_simulator.state import SimulatorState
from daraja_simulator.stk import service as stk_service
from daraja_simulator.stk.repository import Checkout
from daraja_simulator.transactions import statement


def checkout_view(state: SimulatorState, checkout: Checkout) -> CheckoutView:
    return CheckoutView(
        checkout_request_id=checkout.checkout_request_id,
        merchant_request_id=checkout.merchant_request_id,
        shortcode=checkout.shortcode,
        party_b=checkout.party_b,
        phone=checkout.phone,
        amount=checkout.amount,
        account_reference=checkout.account_reference,
        description=checkout.description,
        callback_url=checkout.callback_url,
        created_at=checkout.created_at,
        behaviour=checkout.behaviour.name,
        stage=checkout.stage.value,
        prompt_open=checkout.prompt_open,
        ignored=checkout.ignored,
        action=checkout.action.value if checkout.action is not None else None,
        result_code=checkout.outcome.result_code if checkout.outcome else None,
        result_desc=checkout.outcome.result_desc if checkout.outcome else None,
        reported_result_code=checkout.reported.result_code if checkout.reported else None,
        receipt=checkout.receipt,
        completed_at=checkout.completed_at,
        callback_attempts=len(state.callbacks.for_reference(checkout.checkout_request_id)),
    )


def _attempt_view(attempt: DeliveryAttempt) -> DeliveryAttemptView:
    return DeliveryAttemptView(
        id=attempt.id,
        kind=attempt.kind,
        reference=attempt.reference,
        url=attempt.url,
        delivery=attempt.delivery,
        attempt=attempt.attempt,
        started_at=attempt.started_at,
        duration_ms=attempt.duration_ms,
        status_code=attempt.status_code,
        error=attempt.error,
        delivered=attempt.delivered,
        body=attempt.body,
    )


def _fault_view(fault: Fault, *, now: float) -> FaultView:
    return FaultView(
        id=fault.id,
        kind=fault.kind,
        remaining=fault.remaining,
        seconds_left=fault.seconds_left(now),
        path=fault.path,
        latency_s=fault.latency_s,
        rps=fault.rps,
        result_code=fault.result_code,
        created_at=fault.created_at,
    )


def _behaviour_view(behaviour: Behaviour) -> BehaviourView:
    return BehaviourView(
        code=behaviour.code, name=behaviour.name, description=behaviour.description
    )


def _ledger_view(entry: LedgerEntry) -> LedgerEntryView:
    return LedgerEntryView(
        receipt=entry.receipt,
        amount=entry.amount,
        phone=entry.phone,
        customer_name=entry.customer_name,
        shortcode=entry.shortcode,
        party_b=entry.party_b,
        transaction_type=entry.transaction_type,
        account_reference=entry.account_reference,
        description=entry.description,
        checkout_request_id=entry.checkout_request_id,
        merchant_request_id=entry.merchant_request_id,
        initiated_at=entry.initiated_at,
        completed_at=entry.completed_at,
        balance_after=entry.balance_after,
    )


def list_requests(
    *, state: SimulatorState, api: str | None, path: str | None, status: int | None
) -> RequestList:
    records = state.requests.select(api=api, path=path, status=status)
    return RequestList(
        count=len(records),
        requests=[
            RequestView(
                id=r.id,
                at=r.at,
                method=r.method,
                path=r.path,
                api=r.api,
                query=r.query,
                auth_scheme=r.auth_scheme,
                body=r.body,
                status=r.status,
                fault=r.fault,
            )
            for r in records
        ],
    )


def list_callbacks(
    *, state: SimulatorState, reference: str | None, kind: str | None
) -> DeliveryAttemptList:
    attempts = [
        a
        for a in state.callbacks.attempts
        if (reference is None or a.reference == reference) and (kind is None or a.kind == kind)
    ]
    return DeliveryAttemptList(count=len(attempts), attempts=[_attempt_view(a) for a in attempts])


def list_checkouts(*, state: SimulatorState, open_only: bool) -> list[CheckoutView]:
    checkouts = state.checkouts.open_prompts() if open_only else state.checkouts.all()
    return [checkout_view(state, c) for c in checkouts]


def get_checkout(*, state: SimulatorState, checkout_request_id: str) -> Checkout:
    checkout = state.checkouts.get(checkout_request_id)
    if checkout is None:
        raise CheckoutNotFound(f"no STK push has CheckoutRequestID {checkout_request_id}")
    return checkout


async def answer_prompt(
    *, state: SimulatorState, checkout_request_id: str, action: CustomerAction | None
) -> CheckoutView:
    """The customer approves, cancels or mistypes the PIN (``action``), or ignores the prompt
    (``None``). Returns once the answer is settled."""
    checkout = get_checkout(state=state, checkout_request_id=checkout_request_id)
    if action is None:
        answered = stk_service.ignore_prompt(checkout)
    else:
        answered = stk_service.answer_prompt(checkout, action)
    if not answered:
        raise PromptNotOpen(f"the prompt of {checkout_request_id} is no longer open")
    if action is not None:
        await state.wait_until(lambda: not checkout.prompt_open)
    state.notify()
    return checkout_view(state, checkout)


def behaviour_table(*, state: SimulatorState) -> BehaviourTable:
    return BehaviourTable(
        auto_respond=state.auto_respond,
        default=_behaviour_view(behaviours.PAY),
        table=[_behaviour_view(b) for b in behaviours.TABLE],
        overrides=[
            PhoneBehaviour(phone=phone, behaviour=_behaviour_view(b))
            for phone, b in state.behaviour_overrides.items()
        ],
    )


def set_behaviour(*, state: SimulatorState, phone: str, name_or_code: str) -> PhoneBehaviour:
    behaviour = behaviours.lookup(name_or_code)
    assert behaviour is not None, "validated by BehaviourIn"
    state.behaviour_overrides[phone] = behaviour
    state.notify()
    return PhoneBehaviour(phone=phone, behaviour=_behaviour_view(behaviour))


def clear_behaviour(*, state: SimulatorState, phone: str) -> None:
    state.behaviour_overrides.pop(phone, None)
    state.notify()


def set_auto_respond(*, state: SimulatorState, enabled: bool) -> BehaviourTable:
    state.auto_respond = enabled
    state.notify()
    return behaviour_table(state=state)


def list_faults(*, state: SimulatorState) -> list[FaultView]:
    now = state.faults.monotonic()
    return [_fault_view(f, now=now) for f in state.faults.active()]


def add_fault(*, state: SimulatorState, fault: FaultIn) -> FaultView:
    added = state.faults.add(
        fault.kind,
        created_at=state.clock.now(),
        count=fault.count,
        seconds=fault.seconds,
        path=fault.path,
        latency_s=fault.latency_s,
        rps=fault.rps,
        result_code=fault.result_code,
    )
    state.notify()
    return _fault_view(added, now=state.faults.monotonic())


def remove_fault(*, state: SimulatorState, fault_id: int) -> None:
    if not state.faults.remove(fault_id):
        raise FaultNotFound(f"no active fault has id {fault_id}")
    state.notify()


def clear_faults(*, state: SimulatorState) -> None:
    state.faults.clear()
    state.notify()


def invalidate_tokens(*, state: SimulatorState) -> int:
    count = state.tokens.invalidate_all()
    state.notify()
    return count


def clock_view(*, state: SimulatorState) -> ClockView:
    return ClockView(now=state.clock.now(), offset_s=state.clock.offset.total_seconds())


def advance_clock(*, state: SimulatorState, seconds: float) -> ClockView:
    state.clock.advance(seconds)
    state.notify()
    return clock_view(state=state)


def parse_bound(value: str | None, *, end: bool) -> datetime | None:
    """A period bound: a Nairobi day (``to`` covers the whole day) or an ISO date-time (naive
    means Nairobi)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.max if end else time.min, tzinfo=NAIROBI)
            return moment
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidPeriod(
            f"{'to' if end else 'from'}: {value!r} is not YYYY-MM-DD or an ISO 8601 date-time"
        ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=NAIROBI)


def ledger(
    *,
    state: SimulatorState,
    shortcode: str | None,
    phone: str | None,
    start: str | None,
    end: str | None,
    limit: int | None,
) -> LedgerList:
    entries = state.ledger.select(
        shortcode=shortcode,
        phone=phone,
        start=parse_bound(start, end=False),
        end=parse_bound(end, end=True),
    )
    if limit is not None:
        entries = entries[:limit]
    return LedgerList(count=len(entries), entries=[_ledger_view(e) for e in entries])


def statement_csv(
    *,
    state: SimulatorState,
    shortcode: str | None,
    start: str | None,
    end: str | None,
    preamble: bool,
) -> str:
    code = shortcode or state.settings.SHORTCODES[0].shortcode
    merchant = state.settings.shortcode(code)
    if merchant is None:
        raise UnknownShortcode(f"shortcode {code} is not configured")
    now = state.clock.now()
    period_start = parse_bound(start, end=False)
    period_end = parse_bound(end, end=True) or now
    entries = state.ledger.select(shortcode=code, start=period_start, end=period_end)
    if period_start is None:
        period_start = min((e.completed_at for e in entries), default=now)
    return statement.render(
        entries,
        merchant=merchant,
        start=period_start,
        end=period_end,
        mask_phones=state.settings.STATEMENT_MASK_PHONES,
        preamble=preamble,
    )
