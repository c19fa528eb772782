"""What a stored callback claims, who vouches for it, and what Daraja must be asked before it is
believed (see the module docstring of `callback.service` for the policy)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.callback import network
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import (
    DarajaError,
    StkCallback,
    StkQueryResult,
    is_recognised,
    normalise_result_code,
)
from payment_gateway.models import CallbackInbox, CallbackVerdict, Payment, PaymentStatus
from payment_gateway.payment import state
from payment_gateway.payment.repository import PaymentRepository

V = CallbackVerdict
S = PaymentStatus

# What a callback says happened: money was paid (result 0 and a receipt), a final failure the
# catalogue can read, or something that says nothing reliable (an unreadable code, 0 without a
# receipt) and must be asked of Daraja.
Claim = Literal["paid", "failed", "unknown"]


@dataclass(frozen=True)
class Plan:
    """What a stored callback needs before it can be applied."""

    claim: Claim
    # Who vouches for it without a query: the allow-list, or (confirmation off) its URL.
    vouched: CallbackVerdict | None
    # The CheckoutRequestID to ask Daraja about first; None when no query is needed.
    query: str | None
    # A verdict reached without Daraja (a receipt or push of another payment).
    stop: tuple[CallbackVerdict, str, uuid.UUID] | None = None


def claim_of(callback: StkCallback) -> Claim:
    if callback.is_success:
        return "paid"
    if callback.result_code == "0" or not is_recognised(callback.result_code):
        return "unknown"
    return "failed"


def is_complete(callback: StkCallback) -> bool:
    """Whether the callback carries what is needed to check it against the payment."""
    return callback.amount_raw is not None and callback.phone is not None


def _from_allow_list(inbox: CallbackInbox, settings: Settings) -> bool:
    cidrs = tuple(settings.CALLBACK_ALLOWED_CIDRS)
    return bool(cidrs) and network.is_allowed(inbox.source_ip, cidrs)


async def plan(
    session: AsyncSession,
    *,
    inbox: CallbackInbox,
    payment: Payment,
    callback: StkCallback,
    settings: Settings,
) -> Plan:
    claim = claim_of(callback)
    vouched = None
    if _from_allow_list(inbox, settings):
        vouched = V.allow_listed
    elif not settings.CALLBACK_CONFIRM_BY_QUERY or claim == "failed":
        vouched = V.unchecked
    if claim == "failed":
        return Plan(claim, vouched, query=None)
    others = await PaymentRepository.from_session(session).other_owners(
        payment_id=payment.id,
        receipt_number=callback.receipt_number,
        checkout_request_id=callback.checkout_request_id,
    )
    if others.receipt is not None:
        return Plan(claim, vouched, None, (V.duplicate_receipt, "receipt", others.receipt))
    if others.push is not None:
        return Plan(claim, vouched, None, (V.mismatch, "push", others.push))
    needs_query = (
        vouched is None
        or claim == "unknown"
        or not is_complete(callback)
        or S(payment.status) in state.FINAL_FAILURES
    )
    return Plan(claim, vouched, callback.checkout_request_id if needs_query else None)


@dataclass(frozen=True)
class Confirmation:
    """What STK Query answered about a push, asked before the payment row was locked."""

    checkout_request_id: str
    answer: StkQueryResult | DarajaError


@dataclass(frozen=True)
class QueryVerdict:
    says: str | None  # Daraja's final, readable result code; None when it could not tell
    why: str
    ask_again: bool  # worth another attempt (still processing, a transient error)


def read(confirmation: Confirmation | None, *, checkout_request_id: str) -> QueryVerdict:
    if confirmation is None or confirmation.checkout_request_id != checkout_request_id:
        return QueryVerdict(None, "STK Query was not asked yet", ask_again=True)
    answer = confirmation.answer
    if isinstance(answer, DarajaError):
        return QueryVerdict(None, f"STK Query failed: {answer}"[:300], answer.retryable)
    if answer.pending:
        return QueryVerdict(None, f"STK Query: {answer.result_desc}"[:300], ask_again=True)
    code = normalise_result_code(answer.result_code)
    if code is None or not is_recognised(code):
        return QueryVerdict(None, f"STK Query answered an unknown code {code!r}"[:300], True)
    return QueryVerdict(code, answer.result_desc[:300], ask_again=False)
