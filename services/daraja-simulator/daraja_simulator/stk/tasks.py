"""The life of one checkout in the background: the simulated customer answers (or does not),
M-Pesa settles, and Daraja reports the outcome as the customer's behaviour dictates."""

from __future__ import annotations

import asyncio

import structlog

from daraja_simulator.behaviours import OUTCOMES, CustomerAction, Outcome, Reporting, Timing
from daraja_simulator.state import SimulatorState
from daraja_simulator.stk.callback import callback_document
from daraja_simulator.stk.repository import Checkout

log = structlog.get_logger(__name__)


async def run_checkout(state: SimulatorState, checkout: Checkout) -> None:
    if checkout.immediate is not None:
        await state.clock.sleep(state.settings.SYSTEM_DELAY_S)
        _settle(state, checkout, None, checkout.immediate)
        await _report(state, checkout, Reporting.normal)
        return
    _arm_timers(state, checkout)
    try:
        action = await checkout.decision
    finally:
        for timer in checkout.timers:
            timer.cancel()
    _settle(state, checkout, action, OUTCOMES[action])
    await _report(state, checkout, checkout.behaviour.reporting)


def _arm_timers(state: SimulatorState, checkout: Checkout) -> None:
    settings = state.settings
    behaviour = checkout.behaviour
    loop = asyncio.get_running_loop()

    def window_ends() -> None:
        if checkout.decision.done():
            return
        runs_out = behaviour.timing == Timing.prompt_window and not checkout.ignored
        checkout.decision.set_result(behaviour.action if runs_out else CustomerAction.expire)

    def customer_answers() -> None:
        if not checkout.decision.done() and not checkout.ignored:
            checkout.decision.set_result(behaviour.action)

    checkout.timers.append(
        loop.call_later(state.clock.scaled(settings.PROMPT_WINDOW_S), window_ends)
    )
    if behaviour.timing == Timing.response_delay:
        delay = state.clock.scaled(settings.CUSTOMER_RESPONSE_DELAY_S)
        checkout.timers.append(loop.call_later(delay, customer_answers))


def _settle(
    state: SimulatorState, checkout: Checkout, action: CustomerAction | None, outcome: Outcome
) -> None:
    now = state.clock.now()
    checkout.prompt_open = False
    checkout.action = action
    checkout.outcome = outcome
    checkout.completed_at = now
    if outcome.result_code == 0:
        checkout.receipt = state.ids.receipt(at=now)
        state.ledger.record(
            receipt=checkout.receipt,
            amount=checkout.amount,
            phone=checkout.phone,
            shortcode=checkout.shortcode,
            party_b=checkout.party_b,
            transaction_type=checkout.transaction_type,
            account_reference=checkout.account_reference,
            description=checkout.description,
            checkout_request_id=checkout.checkout_request_id,
            merchant_request_id=checkout.merchant_request_id,
            initiated_at=checkout.created_at,
            completed_at=now,
        )
    log.info(
        "checkout_settled",
        checkout_request_id=checkout.checkout_request_id,
        behaviour=checkout.behaviour.name,
        result_code=outcome.result_code,
        receipt=checkout.receipt,
    )
    state.notify()


async def _report(state: SimulatorState, checkout: Checkout, reporting: Reporting) -> None:
    if reporting == Reporting.never:
        return
    if reporting == Reporting.late:
        await state.clock.sleep(state.settings.LONG_DELAY_S)
    if reporting == Reporting.query_contradicts:
        checkout.reported = OUTCOMES[CustomerAction.cancel]
    else:
        checkout.reported = checkout.outcome
    state.notify()
    if reporting == Reporting.no_callback:
        return
    document = callback_document(checkout, include_balance=state.settings.CALLBACK_INCLUDE_BALANCE)
    deliveries = 3 if reporting == Reporting.triple_callback else 1
    for delivery in range(1, deliveries + 1):
        if delivery > 1:
            await state.clock.sleep(state.settings.SYSTEM_DELAY_S)
        await state.callbacks.deliver(
            kind="stk",
            reference=checkout.checkout_request_id,
            url=checkout.callback_url,
            content=document,
            delivery=delivery,
        )
