"""STK push and query rules, and what happens when the customer answers."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from daraja_simulator import behaviours
from daraja_simulator.behaviours import (
    PRODUCT_NOT_PERMITTED,
    RULE_LIMITED,
    CustomerAction,
    Outcome,
)
from daraja_simulator.clock import parse_daraja_timestamp
from daraja_simulator.config import QueryPendingStyle, Settings
from daraja_simulator.config import Shortcode as ShortcodeConfig
from daraja_simulator.errors import InvalidField
from daraja_simulator.ledger import BUY_GOODS, PAYBILL
from daraja_simulator.state import SimulatorState
from daraja_simulator.stk import tasks, validation
from daraja_simulator.stk.exceptions import (
    MerchantDoesNotExist,
    SubscriberLocked,
    TransactionBeingProcessed,
    WrongCredentials,
)
from daraja_simulator.stk.repository import Checkout
from daraja_simulator.stk.schemas import StkPushAccepted, StkQueryResult

PENDING_4999 = ("4999", "The transaction is still under processing")


def authorise(
    settings: Settings, *, shortcode: str, password: str, timestamp: str
) -> ShortcodeConfig:
    """The shortcode's configuration once the merchant exists and the Password is right."""
    merchant = settings.shortcode(shortcode)
    if merchant is None:
        raise MerchantDoesNotExist()
    if not validation.password_matches(
        password=password, shortcode=shortcode, passkey=merchant.passkey, timestamp=timestamp
    ):
        raise WrongCredentials()
    return merchant


def _product_permitted(merchant: ShortcodeConfig, request: validation.PushRequest) -> bool:
    if merchant.kind == "paybill":
        return request.transaction_type == PAYBILL and request.party_b == merchant.shortcode
    return request.transaction_type == BUY_GOODS and request.party_b in merchant.tills


def _check_skew(state: SimulatorState, stamp: str) -> None:
    limit = state.settings.TIMESTAMP_MAX_SKEW_S
    moment = parse_daraja_timestamp(stamp)
    if limit is None or moment is None:
        return
    if abs(state.clock.now() - moment) > timedelta(seconds=limit):
        raise InvalidField("Timestamp")


def _unused_checkout_request_id(state: SimulatorState, msisdn: str, *, now: datetime) -> str:
    """Daraja's ids carry the time to the millisecond; two pushes in the same millisecond get
    the next free one."""
    checkout_request_id = state.ids.checkout_request_id(msisdn=msisdn, at=now)
    bump = now
    while checkout_request_id in state.checkouts:
        bump += timedelta(milliseconds=1)
        checkout_request_id = state.ids.checkout_request_id(msisdn=msisdn, at=bump)
    return checkout_request_id


def _immediate_answer(
    state: SimulatorState,
    merchant: ShortcodeConfig,
    request: validation.PushRequest,
    *,
    now: datetime,
) -> Outcome | None:
    """The result a push gets without a prompt (product not permitted, a repeat within the
    duplicate window), or None when the customer is prompted (and the prompt is noted)."""
    if not _product_permitted(merchant, request):
        return PRODUCT_NOT_PERMITTED
    if state.checkouts.prompted_recently(
        phone=request.phone_number,
        amount=request.amount,
        now=now,
        window_s=state.settings.DUPLICATE_WINDOW_S,
    ):
        return RULE_LIMITED
    state.checkouts.note_prompt(phone=request.phone_number, amount=request.amount, at=now)
    return None


def push(*, state: SimulatorState, body: dict[str, Any]) -> StkPushAccepted:
    request = validation.parse_push(body, validation.Rules.from_settings(state.settings))
    merchant = authorise(
        state.settings,
        shortcode=request.business_short_code,
        password=request.password,
        timestamp=request.timestamp,
    )
    _check_skew(state, request.timestamp)
    if state.checkouts.open_prompt_for(request.phone_number) is not None:
        raise SubscriberLocked()

    now = state.clock.now()
    checkout_request_id = _unused_checkout_request_id(state, request.phone_number, now=now)
    immediate = _immediate_answer(state, merchant, request, now=now)
    checkout = Checkout(
        checkout_request_id=checkout_request_id,
        merchant_request_id=state.ids.merchant_request_id(),
        shortcode=merchant.shortcode,
        party_a=request.party_a,
        party_b=request.party_b,
        phone=request.phone_number,
        amount=request.amount,
        transaction_type=request.transaction_type,
        account_reference=request.account_reference,
        description=request.transaction_desc,
        callback_url=request.callback_url,
        created_at=now,
        behaviour=behaviours.for_phone(
            request.phone_number,
            overrides=state.behaviour_overrides,
            auto_respond=state.auto_respond,
        ),
        decision=asyncio.get_running_loop().create_future(),
        immediate=immediate,
        prompt_open=immediate is None,
    )
    state.checkouts.add(checkout)
    state.spawn(tasks.run_checkout(state, checkout), name=f"checkout {checkout_request_id}")
    state.notify()
    return StkPushAccepted(
        merchant_request_id=checkout.merchant_request_id,
        checkout_request_id=checkout.checkout_request_id,
    )


def query(*, state: SimulatorState, body: dict[str, Any]) -> StkQueryResult:
    request = validation.parse_query(body)
    authorise(
        state.settings,
        shortcode=request.business_short_code,
        password=request.password,
        timestamp=request.timestamp,
    )
    checkout = state.checkouts.get(request.checkout_request_id)
    if checkout is None or checkout.shortcode != request.business_short_code:
        raise InvalidField("CheckoutRequestID")
    if checkout.reported is None:
        if state.settings.QUERY_PENDING_STYLE is QueryPendingStyle.result_4999:
            code, desc = PENDING_4999
            return StkQueryResult(
                merchant_request_id=checkout.merchant_request_id,
                checkout_request_id=checkout.checkout_request_id,
                result_code=code,
                result_desc=desc,
            )
        # Daraja puts the CheckoutRequestID in requestId for this one.
        raise TransactionBeingProcessed(request_id=checkout.checkout_request_id)
    return StkQueryResult(
        merchant_request_id=checkout.merchant_request_id,
        checkout_request_id=checkout.checkout_request_id,
        result_code=str(checkout.reported.result_code),
        result_desc=checkout.reported.result_desc,
    )


def answer_prompt(checkout: Checkout, action: CustomerAction) -> bool:
    """The customer answers an open prompt; False when it is no longer open."""
    if not checkout.prompt_open or checkout.decision.done():
        return False
    checkout.decision.set_result(action)
    return True


def ignore_prompt(checkout: Checkout) -> bool:
    """The customer looks away: no automatic answer; the prompt expires at the window."""
    if not checkout.prompt_open or checkout.decision.done():
        return False
    checkout.ignored = True
    return True
