"""Transaction Status and Pull Transactions, answered from the ledger."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from daraja_simulator import fields
from daraja_simulator.clock import NAIROBI, daraja_timestamp
from daraja_simulator.config import Mode
from daraja_simulator.errors import InvalidField
from daraja_simulator.ledger import BUY_GOODS, LedgerEntry
from daraja_simulator.requestlog import APIS
from daraja_simulator.state import SimulatorState
from daraja_simulator.transactions.exceptions import InvalidShortCode
from daraja_simulator.transactions.repository import PullRegistration
from daraja_simulator.transactions.schemas import (
    PullQueryResult,
    PullRegistered,
    PullTransaction,
    TransactionStatusAccepted,
)

TRANSACTION_STATUS_PATH = next(p for p, api in APIS.items() if api == "transaction_status")
PULL_QUERY_PATH = next(p for p, api in APIS.items() if api == "pull_query")
# Safaricom's one answer for an empty window and for a shortcode not provisioned for Pull.
PULL_NOTHING = ("1001", "No records found or Organization Name not available")
IDENTIFIER_TYPES = frozenset({"1", "2", "4"})
NOT_FOUND = (2032, "The transaction receipt number does not exist.")
# Safaricom documents no body for a queue timeout; this is the Result envelope with the
# generic "system overload" code its other APIs list.
QUEUE_TIMEOUT = (100000001, "The system is overload")


@dataclass(frozen=True)
class StatusRequest:
    transaction_id: str
    original_conversation_id: str
    party_a: str
    result_url: str
    queue_timeout_url: str
    occasion: str


def _url_ok(state: SimulatorState, value: Any) -> bool:
    return fields.callback_url_ok(
        value,
        require_https=state.settings.MODE is Mode.production,
        blocked_words=tuple(w.lower() for w in state.settings.CALLBACK_URL_BLOCKED_WORDS),
    )


def _optional_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_status_request(state: SimulatorState, body: dict[str, Any]) -> StatusRequest:
    for name in ("Initiator", "SecurityCredential"):
        if fields.text(body.get(name)) is None:
            raise InvalidField(name)
    if body.get("CommandID") != "TransactionStatusQuery":
        raise InvalidField("CommandID")
    transaction_id = _optional_text(body.get("TransactionID"))
    original = _optional_text(body.get("OriginalConversationID"))
    if not transaction_id and not original:
        raise InvalidField("TransactionID")
    party_a = fields.shortcode(body.get("PartyA"))
    if party_a is None:
        raise InvalidField("PartyA")
    if str(body.get("IdentifierType")) not in IDENTIFIER_TYPES:
        raise InvalidField("IdentifierType")
    for name in ("ResultURL", "QueueTimeOutURL"):
        if not _url_ok(state, body.get(name)):
            raise InvalidField(name)
    if fields.text(body.get("Remarks")) is None:
        raise InvalidField("Remarks")
    return StatusRequest(
        transaction_id=transaction_id,
        original_conversation_id=original,
        party_a=party_a,
        result_url=str(body["ResultURL"]),
        queue_timeout_url=str(body["QueueTimeOutURL"]),
        occasion=_optional_text(body.get("Occasion")),
    )


def transaction_status(*, state: SimulatorState, body: dict[str, Any]) -> TransactionStatusAccepted:
    request = parse_status_request(state, body)
    now = state.clock.now()
    accepted = TransactionStatusAccepted(
        originator_conversation_id=state.ids.request_id(),
        conversation_id=state.ids.conversation_id(at=now),
    )
    # Decided now, so "the next N requests" of a result_timeout fault means exactly those.
    timed_out = state.faults.take_result_timeout(TRANSACTION_STATUS_PATH)
    state.spawn(
        _send_result(state, request, accepted, timed_out=timed_out),
        name=f"transaction status {accepted.conversation_id}",
    )
    return accepted


def find_transaction(state: SimulatorState, request: StatusRequest) -> LedgerEntry | None:
    """By receipt, then by OriginalConversationID, which for an STK payment the simulator
    matches against its MerchantRequestID or CheckoutRequestID."""
    entry = None
    if request.transaction_id:
        entry = state.ledger.by_receipt(request.transaction_id)
    if entry is None and request.original_conversation_id:
        key = request.original_conversation_id
        entry = state.ledger.by_checkout(key) or state.ledger.by_merchant_request(key)
    if entry is None or request.party_a not in (entry.shortcode, entry.party_b):
        return None
    return entry


def result_document(
    state: SimulatorState,
    request: StatusRequest,
    accepted: TransactionStatusAccepted,
    *,
    timed_out: bool,
) -> dict[str, Any]:
    reference_item: dict[str, Any] = {"Key": "Occasion"}
    if request.occasion:
        reference_item["Value"] = request.occasion
    result: dict[str, Any] = {
        "ConversationID": accepted.conversation_id,
        "OriginatorConversationID": accepted.originator_conversation_id,
        "ReferenceData": {"ReferenceItem": reference_item},
    }
    entry = None if timed_out else find_transaction(state, request)
    if timed_out:
        result.update(ResultCode=QUEUE_TIMEOUT[0], ResultDesc=QUEUE_TIMEOUT[1])
    elif entry is None:
        result.update(ResultCode=NOT_FOUND[0], ResultDesc=NOT_FOUND[1])
    else:
        result.update(
            ResultCode=0,
            ResultDesc="The service request is processed successfully.",
            ResultParameters={"ResultParameter": _result_parameters(state, entry)},
        )
    result["ResultType"] = 0
    result["TransactionID"] = entry.receipt if entry is not None else request.transaction_id
    return {"Result": result}


def _result_parameters(state: SimulatorState, entry: LedgerEntry) -> list[dict[str, Any]]:
    # Times and amount are strings here, as in Safaricom's sample (unlike the STK callback).
    merchant = state.settings.shortcode(entry.shortcode)
    organization = merchant.organization_name if merchant is not None else entry.shortcode
    buy_goods = entry.transaction_type == BUY_GOODS
    return [
        {"Key": "DebitPartyName", "Value": f"{entry.phone} - {entry.customer_name}"},
        {"Key": "CreditPartyName", "Value": f"{entry.party_b} - {organization}"},
        {"Key": "OriginatorConversationID", "Value": entry.merchant_request_id},
        {"Key": "InitiatedTime", "Value": daraja_timestamp(entry.initiated_at)},
        {"Key": "DebitAccountType", "Value": "MMF Account For Customer"},
        {"Key": "DebitPartyCharges"},
        {"Key": "TransactionReason"},
        {"Key": "ReasonType", "Value": "Buy Goods Online" if buy_goods else "Pay Bill Online"},
        {"Key": "TransactionStatus", "Value": "Completed"},
        {"Key": "FinalisedTime", "Value": daraja_timestamp(entry.completed_at)},
        {"Key": "Amount", "Value": str(entry.amount)},
        {"Key": "ConversationID", "Value": entry.checkout_request_id},
        {"Key": "ReceiptNo", "Value": entry.receipt},
    ]


async def _send_result(
    state: SimulatorState,
    request: StatusRequest,
    accepted: TransactionStatusAccepted,
    *,
    timed_out: bool,
) -> None:
    await state.clock.sleep(state.settings.SYSTEM_DELAY_S)
    document = result_document(state, request, accepted, timed_out=timed_out)
    await state.callbacks.deliver(
        kind="queue_timeout" if timed_out else "transaction_status",
        reference=accepted.conversation_id,
        url=request.queue_timeout_url if timed_out else request.result_url,
        content=json.dumps(document),
    )


def pull_register(*, state: SimulatorState, body: dict[str, Any]) -> PullRegistered:
    code = fields.shortcode(body.get("ShortCode"))
    if code is None or state.settings.merchant_for(code) is None:
        raise InvalidShortCode()
    if body.get("RequestType") != "Pull":
        raise InvalidField("RequestType")
    nominated = fields.text(body.get("NominatedNumber"))
    if nominated is None:
        raise InvalidField("NominatedNumber")
    if not _url_ok(state, body.get("CallBackURL")):
        raise InvalidField("CallBackURL")
    reference = state.ids.reference_id()
    if state.pulls.get(code) is not None:
        return PullRegistered(
            response_ref_id=reference,
            response_status="1001",
            short_code=code,
            response_description="Shortcode already registered",
        )
    state.pulls.add(
        PullRegistration(
            shortcode=code,
            nominated_number=nominated,
            callback_url=str(body["CallBackURL"]),
            registered_at=state.clock.now(),
        )
    )
    state.notify()
    return PullRegistered(
        response_ref_id=reference,
        response_status="1000",
        short_code=code,
        response_description="Shortcode Registered Successfully",
    )


_PULL_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{1,2})(?::(\d{1,3}))?$")


def parse_pull_date(value: Any) -> datetime | None:
    """Pull dates are Nairobi wall time, ``2020-08-04 8:36:00``; Safaricom's own sample even
    has ``10:10:000``, so the parts are read leniently."""
    if not isinstance(value, str):
        return None
    match = _PULL_DATE.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(p) if p else 0 for p in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=NAIROBI)
    except ValueError:
        return None


def pull_query(*, state: SimulatorState, body: dict[str, Any]) -> PullQueryResult:
    code = fields.shortcode(body.get("ShortCode"))
    if code is None or state.pulls.get(code) is None:
        raise InvalidShortCode()
    start = parse_pull_date(body.get("StartDate"))
    if start is None:
        raise InvalidField("StartDate")
    end = parse_pull_date(body.get("EndDate"))
    if end is None:
        raise InvalidField("EndDate")
    offset_text = fields.text(body.get("OffSetValue", "0"))
    if offset_text is None or not offset_text.isdigit():
        raise InvalidField("OffSetValue")
    offset = int(offset_text)
    # Only the last PULL_WINDOW_HOURS are kept for Pull.
    earliest = state.clock.now() - timedelta(hours=state.settings.PULL_WINDOW_HOURS)
    entries = sorted(
        state.ledger.select(shortcode=code, start=max(start, earliest), end=end),
        key=lambda e: e.completed_at,
    )
    page = entries[offset : offset + state.settings.PULL_PAGE_SIZE]
    reference = state.ids.request_id()
    if not page or state.faults.take_pull_not_provisioned(PULL_QUERY_PATH):
        return PullQueryResult(
            response_ref_id=reference,
            response_code=PULL_NOTHING[0],
            response_message=PULL_NOTHING[1],
            response=[[]],
        )
    merchant = state.settings.merchant_for(code)
    organization = merchant.organization_name if merchant is not None else code
    return PullQueryResult(
        response_ref_id=reference,
        response_code="1000",
        response_message="Success",
        response=[[_pull_transaction(e, organization) for e in page]],
    )


def _pull_transaction(entry: LedgerEntry, organization: str) -> PullTransaction:
    kind = "c2b-buy-goods-debit" if entry.transaction_type == BUY_GOODS else "c2b-pay-bill-debit"
    return PullTransaction(
        transaction_id=entry.receipt,
        trx_date=entry.completed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        msisdn=int(entry.phone),
        sender=entry.customer_name,
        transaction_type=kind,
        bill_reference=entry.account_reference,
        amount=f"{entry.amount}.00",
        organization_name=organization,
    )
