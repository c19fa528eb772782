"""The STK callback Daraja POSTs to ``CallBackURL``, parsed leniently.

Daraja's callbacks vary by era: ``ResultCode`` is a number (``0``, ``1032``) or a string
(``"E3008"``); metadata items are looked up by ``Name`` because their order and set change
(``Balance`` often has no ``Value``); ``Amount`` arrives as ``1.00``, ``1.0`` or ``60``.

Amounts are read exactly (JSON numbers as ``Decimal``, never float). A fractional amount is not
refused: the callback may be the only proof of a real payment, so it is kept in ``amount_raw``
with ``amount=None`` and ``amount_is_whole=False``, and the caller holds such a payment for
review instead of crediting it.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, computed_field

from payment_gateway.integrations.daraja.catalogue import normalise_result_code
from payment_gateway.integrations.daraja.numbers import to_decimal, whole
from payment_gateway.integrations.daraja.timestamps import parse_daraja_timestamp

# Longer values than the columns that keep them cannot come from Daraja; refusing them here keeps a
# crafted body from failing every attempt to store it.
MAX_REQUEST_ID = 64
# Receipts are ten upper-case letters and digits in every sample; the bound is the column's. A
# receipt outside this is no receipt: the callback then proves nothing by itself.
_RECEIPT = re.compile(r"[A-Za-z0-9]{1,32}")


class CallbackParseError(ValueError):
    """The body is not an STK callback we can act on."""


class StkCallback(BaseModel):
    model_config = ConfigDict(frozen=True)

    merchant_request_id: str | None
    checkout_request_id: str
    result_code: str
    result_desc: str
    amount: int | None
    amount_raw: Decimal | None
    receipt_number: str | None
    transaction_date: datetime | None
    phone: str | None
    balance: Decimal | None
    metadata: dict[str, Any]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def is_success(self) -> bool:
        """Paid: result code 0 and a receipt number. Code 0 alone is not proof of payment."""
        return self.result_code == "0" and bool(self.receipt_number)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def amount_is_whole(self) -> bool:
        """False when Daraja sent an amount that is not a whole number of KES."""
        return self.amount_raw is None or self.amount is not None


def parse_stk_callback(payload: bytes | str | dict[str, Any]) -> StkCallback:
    """Parse a callback body (raw bytes, text or an already decoded object). Raises
    ``CallbackParseError`` for anything that is not JSON, has no ``Body.stkCallback`` object,
    no ``CheckoutRequestID`` (or one longer than Daraja's) or no ``ResultCode``; every other
    oddity is tolerated (a receipt that cannot be one is read as no receipt)."""
    data = _decode(payload)
    body = data.get("Body")
    stk = body.get("stkCallback") if isinstance(body, dict) else None
    if not isinstance(stk, dict):
        raise CallbackParseError("callback has no Body.stkCallback object")
    checkout_request_id = _text(stk.get("CheckoutRequestID"))
    if checkout_request_id is None:
        raise CallbackParseError("callback has no CheckoutRequestID")
    if len(checkout_request_id) > MAX_REQUEST_ID:
        raise CallbackParseError(
            f"callback CheckoutRequestID is longer than {MAX_REQUEST_ID} characters"
        )
    result_code = normalise_result_code(_plain(stk.get("ResultCode")))
    if result_code is None:
        raise CallbackParseError(
            f"callback for {checkout_request_id} has no ResultCode (number or string expected)"
        )
    metadata = _metadata(stk.get("CallbackMetadata"))
    amount_raw = to_decimal(metadata.get("Amount"))
    try:
        return StkCallback(
            merchant_request_id=_request_id(stk.get("MerchantRequestID")),
            checkout_request_id=checkout_request_id,
            result_code=result_code,
            result_desc=_text(stk.get("ResultDesc")) or "",
            amount=whole(amount_raw),
            amount_raw=amount_raw,
            receipt_number=_receipt(metadata.get("MpesaReceiptNumber")),
            transaction_date=_timestamp(metadata.get("TransactionDate")),
            phone=_digits(metadata.get("PhoneNumber")),
            balance=to_decimal(metadata.get("Balance")),
            metadata=metadata,
        )
    except ValidationError as e:  # a guard: the fields above are already of the right types
        raise CallbackParseError(f"callback for {checkout_request_id} is malformed: {e}") from e


def _decode(payload: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(payload, bytes | bytearray | str):
        try:
            data = json.loads(payload, parse_float=Decimal)
        except (ValueError, RecursionError) as e:
            raise CallbackParseError("callback body is not valid JSON") from e
    else:
        data = payload
    if not isinstance(data, dict):
        raise CallbackParseError("callback body is not a JSON object")
    return data


def _metadata(value: Any) -> dict[str, Any]:
    """``CallbackMetadata.Item`` by ``Name``; an item without ``Value`` maps to None. The first
    item of a name wins."""
    items = value.get("Item") if isinstance(value, dict) else None
    if isinstance(items, dict):
        items = [items]
    found: dict[str, Any] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("Name"), str):
            found.setdefault(item["Name"], _plain(item.get("Value")))
    return found


def _plain(value: Any) -> Any:
    """Floats from an already decoded body become exact Decimals (their shortest repr)."""
    return to_decimal(value) if isinstance(value, float) else value


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _request_id(value: Any) -> str | None:
    text = _text(value)
    return text if text is not None and len(text) <= MAX_REQUEST_ID else None


def _receipt(value: Any) -> str | None:
    text = _text(value)
    return text if text is not None and _RECEIPT.fullmatch(text) else None


def _digits(value: Any) -> str | None:
    """A phone number sent as a JSON number or a string, as its digits."""
    number = to_decimal(value)
    if number is None:
        return _text(value)
    digits = whole(number)
    return str(digits) if digits is not None and digits >= 0 else None


def _timestamp(value: Any) -> datetime | None:
    stamp = whole(to_decimal(value))
    if stamp is None:
        return None
    try:
        return parse_daraja_timestamp(stamp)
    except ValueError:
        return None
