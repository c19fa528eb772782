"""C2B: registering the paybill's confirmation and validation URLs, and customers paying the
paybill by hand: validated (when a ValidationURL is registered), recorded in the ledger with a
receipt of their own, confirmed to the ConfirmationURL, and listed by Pull and the statement."""

from __future__ import annotations

import json
from typing import Any

import httpx

from daraja_simulator import fields
from daraja_simulator.c2b.exceptions import NotRegistered, UrlsAlreadyRegistered
from daraja_simulator.c2b.repository import C2BRegistration
from daraja_simulator.c2b.schemas import HandPayment, HandPaymentView, Registered
from daraja_simulator.clock import daraja_timestamp
from daraja_simulator.config import Mode
from daraja_simulator.errors import InvalidField
from daraja_simulator.ledger import PAYBILL, LedgerEntry
from daraja_simulator.state import SimulatorState
from daraja_simulator.transactions.exceptions import InvalidShortCode
from daraja_simulator.transactions.statement import statement_phone_mask

RESPONSE_TYPES = ("Completed", "Cancelled")


def register(*, state: SimulatorState, body: dict[str, Any]) -> Registered:
    code = fields.shortcode(body.get("ShortCode"))
    if code is None or state.settings.merchant_for(code) is None:
        raise InvalidShortCode()
    response_type = body.get("ResponseType")
    if response_type not in RESPONSE_TYPES:
        raise InvalidField("ResponseType")
    blocked = tuple(w.lower() for w in state.settings.CALLBACK_URL_BLOCKED_WORDS)
    production = state.settings.MODE is Mode.production
    if not fields.callback_url_ok(
        body.get("ConfirmationURL"), require_https=production, blocked_words=blocked
    ):
        raise InvalidField("ConfirmationURL")
    validation = body.get("ValidationURL")
    if validation and not fields.callback_url_ok(
        validation, require_https=production, blocked_words=blocked
    ):
        raise InvalidField("ValidationURL")
    if production and state.c2b.get(code) is not None:
        raise UrlsAlreadyRegistered()
    state.c2b.add(
        C2BRegistration(
            shortcode=code,
            response_type=str(response_type),
            confirmation_url=str(body["ConfirmationURL"]),
            validation_url=str(validation) if validation else None,
            registered_at=state.clock.now(),
        )
    )
    state.notify()
    return Registered(
        originator_conversation_id=state.ids.request_id(),
        response_code="0",
        response_description="Success",
    )


def _payload(state: SimulatorState, payment: HandPayment, *, receipt: str, balance: str) -> str:
    now = state.clock.now()
    return json.dumps(
        {
            "TransactionType": "Pay Bill",
            "TransID": receipt,
            "TransTime": daraja_timestamp(now),
            "TransAmount": f"{payment.amount}.00",
            "BusinessShortCode": payment.shortcode,
            "BillRefNumber": payment.account_reference,
            "InvoiceNumber": "",
            "OrgAccountBalance": balance,
            "ThirdPartyTransID": "",
            # Masked, as M-Pesa now sends it.
            "MSISDN": statement_phone_mask(payment.phone),
            "FirstName": "CUSTOMER",
            "MiddleName": "",
            "LastName": "",
        }
    )


async def _validated(registration: C2BRegistration, content: str) -> str:
    """What the merchant's validation answered: its ResultCode, or the ResponseType default
    when it did not answer in time."""
    assert registration.validation_url is not None
    try:
        async with httpx.AsyncClient(timeout=8.0, trust_env=False) as client:
            response = await client.post(
                registration.validation_url,
                content=content,
                headers={"Content-Type": "application/json"},
            )
        code = str(response.json().get("ResultCode", ""))
    except (httpx.HTTPError, ValueError, AttributeError):
        code = "0" if registration.response_type == "Completed" else "C2B00016"
    return code


async def pay_by_hand(*, state: SimulatorState, payment: HandPayment) -> HandPaymentView:
    merchant = state.settings.merchant_for(payment.shortcode)
    if merchant is None:
        raise InvalidShortCode()
    registration = state.c2b.get(payment.shortcode)
    if registration is None:
        raise NotRegistered(f"no C2B URLs are registered for {payment.shortcode}")
    now = state.clock.now()
    receipt = state.ids.receipt(at=now)
    code = "0"
    if registration.validation_url:
        content = _payload(state, payment, receipt=receipt, balance="")
        code = await _validated(registration, content)
    if code != "0":
        return HandPaymentView(
            accepted=False, receipt=None, result_code=code, confirmation_delivered=None
        )
    entry: LedgerEntry = state.ledger.record(
        receipt=receipt,
        amount=payment.amount,
        phone=payment.phone,
        shortcode=payment.shortcode,
        party_b=payment.shortcode,
        transaction_type=PAYBILL,
        account_reference=payment.account_reference,
        description="Pay Bill",
        checkout_request_id=f"c2b:{receipt}",
        merchant_request_id=f"c2b:{receipt}",
        initiated_at=now,
        completed_at=now,
    )
    delivered = None
    if payment.deliver_confirmation:
        delivered = await state.callbacks.deliver(
            kind="c2b_confirmation",
            reference=receipt,
            url=registration.confirmation_url,
            content=_payload(state, payment, receipt=receipt, balance=f"{entry.balance_after}.00"),
        )
    state.notify()
    return HandPaymentView(
        accepted=True, receipt=receipt, result_code="0", confirmation_delivered=delivered
    )
