"""Reading the `{"Result": {...}}` Daraja POSTs to a ResultURL (Transaction Status), leniently:
`ResultCode` a number or a string, `ResultParameters.ResultParameter` a list or a single object,
parameter keys in any case and with or without spaces ("ReceiptNo", "Originator Conversation
ID"), values strings or numbers, and camelCase envelopes seen in the wild."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from payment_gateway.integrations.daraja.catalogue import normalise_result_code
from payment_gateway.integrations.daraja.numbers import to_decimal


class ResultParseError(ValueError):
    """Not a Daraja Result document."""


def _key(name: Any) -> str:
    return "".join(str(name).split()).lower()


@dataclass(frozen=True)
class TransactionResult:
    result_code: str
    result_desc: str
    conversation_id: str | None
    originator_conversation_id: str | None
    transaction_id: str | None
    parameters: dict[str, Any] = field(default_factory=dict)

    def parameter(self, name: str) -> Any:
        return self.parameters.get(_key(name))

    @property
    def receipt(self) -> str | None:
        value = self.parameter("ReceiptNo") or self.transaction_id
        return (str(value).strip() or None) if value is not None else None

    @property
    def amount(self) -> Decimal | None:
        return to_decimal(self.parameter("Amount"))

    @property
    def status(self) -> str | None:
        value = self.parameter("TransactionStatus")
        return str(value).strip().lower() if value is not None else None

    @property
    def debit_party(self) -> str:
        return str(self.parameter("DebitPartyName") or "")


def parse_result(body: bytes | str) -> TransactionResult:
    try:
        document = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError) as e:
        raise ResultParseError("the Result body is not JSON") from e
    if not isinstance(document, dict):
        raise ResultParseError("the Result body is not a JSON object")
    top = {_key(k): v for k, v in document.items()}
    result = top.get("result")
    if not isinstance(result, dict):
        raise ResultParseError("no Result object")
    fields = {_key(k): v for k, v in result.items()}
    code = normalise_result_code(fields.get("resultcode"))
    if code is None:
        raise ResultParseError("the Result has no ResultCode")
    return TransactionResult(
        result_code=code,
        result_desc=str(fields.get("resultdesc") or "")[:300],
        conversation_id=_text(fields.get("conversationid")),
        originator_conversation_id=_text(fields.get("originatorconversationid")),
        transaction_id=_text(fields.get("transactionid")),
        parameters=_parameters(fields.get("resultparameters")),
    )


def _parameters(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    items = {_key(k): v for k, v in value.items()}.get("resultparameter")
    if isinstance(items, dict):  # one parameter comes as an object, not a list
        items = [items]
    if not isinstance(items, list):
        return {}
    found: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        entry = {_key(k): v for k, v in item.items()}
        name = entry.get("key")
        # The first of a repeated key wins (DebitPartyName comes twice in Safaricom's sample).
        if name is not None and _key(name) not in found:
            found[_key(name)] = entry.get("value")
    return found


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    return str(value).strip()[:64] or None
