"""Reading STK push and query bodies the way Daraja does: every field checked, the first bad one
named in "Bad Request - Invalid <Field>"."""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from typing import Any

from daraja_simulator.config import Mode, Settings
from daraja_simulator.errors import InvalidField
from daraja_simulator.fields import (
    callback_url_ok,
    msisdn,
    shortcode,
    text,
    timestamp,
    whole_amount,
)
from daraja_simulator.ledger import BUY_GOODS, PAYBILL

TRANSACTION_TYPES = frozenset({PAYBILL, BUY_GOODS})


@dataclass(frozen=True)
class Rules:
    min_amount: int
    max_amount: int
    require_https: bool
    blocked_words: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(
            min_amount=settings.MIN_AMOUNT,
            max_amount=settings.MAX_AMOUNT,
            require_https=settings.MODE is Mode.production,
            blocked_words=tuple(w.lower() for w in settings.CALLBACK_URL_BLOCKED_WORDS),
        )


@dataclass(frozen=True)
class PushRequest:
    business_short_code: str
    password: str
    timestamp: str
    transaction_type: str
    amount: int
    party_a: str
    party_b: str
    phone_number: str
    callback_url: str
    account_reference: str
    transaction_desc: str


@dataclass(frozen=True)
class QueryRequest:
    business_short_code: str
    password: str
    timestamp: str
    checkout_request_id: str


def expected_password(*, shortcode: str, passkey: str, timestamp: str) -> str:
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode("ascii")


def password_matches(*, password: str, shortcode: str, passkey: str, timestamp: str) -> bool:
    expected = expected_password(shortcode=shortcode, passkey=passkey, timestamp=timestamp)
    return hmac.compare_digest(password.encode(), expected.encode())


def parse_push(body: dict[str, Any], rules: Rules) -> PushRequest:
    """The push request, or InvalidField naming the first bad field (in Safaricom's order)."""
    code = shortcode(body.get("BusinessShortCode"))
    if code is None:
        raise InvalidField("BusinessShortCode")
    password = body.get("Password")
    stamp = timestamp(body.get("Timestamp"))
    if stamp is None:
        raise InvalidField("Timestamp")
    transaction_type = body.get("TransactionType")
    if transaction_type not in TRANSACTION_TYPES:
        raise InvalidField("TransactionType")
    amount = whole_amount(body.get("Amount"))
    if amount is None or not rules.min_amount <= amount <= rules.max_amount:
        raise InvalidField("Amount")
    party_a = msisdn(body.get("PartyA"))
    if party_a is None:
        raise InvalidField("PartyA")
    party_b = shortcode(body.get("PartyB"))
    if party_b is None:
        raise InvalidField("PartyB")
    phone = msisdn(body.get("PhoneNumber"))
    if phone is None:
        raise InvalidField("PhoneNumber")
    callback_url = body.get("CallBackURL")
    if not callback_url_ok(
        callback_url, require_https=rules.require_https, blocked_words=rules.blocked_words
    ):
        raise InvalidField("CallBackURL")
    account_reference = text(body.get("AccountReference"))
    if account_reference is None:
        raise InvalidField("AccountReference")
    # Daraja calls TransactionDesc "Remarks" internally; leaving it out gets "Invalid Remarks".
    description = text(body.get("TransactionDesc"))
    if description is None:
        raise InvalidField("Remarks")
    return PushRequest(
        business_short_code=code,
        password=password if isinstance(password, str) else "",
        timestamp=stamp,
        transaction_type=str(transaction_type),
        amount=amount,
        party_a=party_a,
        party_b=party_b,
        phone_number=phone,
        callback_url=str(callback_url),
        account_reference=account_reference,
        transaction_desc=description,
    )


def parse_query(body: dict[str, Any]) -> QueryRequest:
    code = shortcode(body.get("BusinessShortCode"))
    if code is None:
        raise InvalidField("BusinessShortCode")
    stamp = timestamp(body.get("Timestamp"))
    if stamp is None:
        raise InvalidField("Timestamp")
    checkout_request_id = body.get("CheckoutRequestID")
    if not isinstance(checkout_request_id, str) or not checkout_request_id.strip():
        raise InvalidField("CheckoutRequestID")
    password = body.get("Password")
    return QueryRequest(
        business_short_code=code,
        password=password if isinstance(password, str) else "",
        timestamp=stamp,
        checkout_request_id=checkout_request_id,
    )
