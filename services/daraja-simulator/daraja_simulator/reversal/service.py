"""Reversal, answered from the ledger: the money of a completed transaction goes back to its
payer once; the result arrives at the ResultURL (QueueTimeOutURL under a `result_timeout`
fault) with Safaricom's result codes: `0` reversed, `R000001` reversed already, `R000002` no
such original transaction, `1` the shortcode's balance is too low, or a code forced by a
`result_code` fault."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from daraja_simulator import fields
from daraja_simulator.clock import daraja_timestamp
from daraja_simulator.config import Mode
from daraja_simulator.errors import InvalidField
from daraja_simulator.ledger import LedgerEntry
from daraja_simulator.requestlog import APIS
from daraja_simulator.reversal.schemas import ReversalAccepted
from daraja_simulator.state import SimulatorState

REVERSAL_PATH = next(p for p, api in APIS.items() if api == "reversal")
OK = "The service request is processed successfully."
# Safaricom's Reversal page; the codes other than 0 and R0000xx come from its table, with the
# generic descriptions of its other ResultURL APIs.
DESCRIPTIONS: dict[str, str] = {
    "R000001": "The transaction has already been reversed.",
    "R000002": "The OriginalTransactionID is invalid.",
    "1": "The balance is insufficient for the transaction.",
    "11": "The DebitParty is in an invalid state.",
    "21": "The initiator is not allowed to initiate this request.",
    "2001": "The initiator information is invalid.",
    "2006": "Declined due to account rule.",
    "2028": "The request is not permitted according to product assignment.",
    "8006": "The security credential is locked.",
}
QUEUE_TIMEOUT = (100000001, "The system is overload")


@dataclass(frozen=True)
class ReversalRequest:
    transaction_id: str
    amount: int
    receiver_party: str
    result_url: str
    queue_timeout_url: str


def _url_ok(state: SimulatorState, value: Any) -> bool:
    return fields.callback_url_ok(
        value,
        require_https=state.settings.MODE is Mode.production,
        blocked_words=tuple(w.lower() for w in state.settings.CALLBACK_URL_BLOCKED_WORDS),
    )


def parse_request(state: SimulatorState, body: dict[str, Any]) -> ReversalRequest:
    for name in ("Initiator", "SecurityCredential"):
        if fields.text(body.get(name)) is None:
            raise InvalidField(name)
    if body.get("CommandID") != "TransactionReversal":
        raise InvalidField("CommandID")
    transaction_id = fields.text(body.get("TransactionID"))
    if transaction_id is None:
        raise InvalidField("TransactionID")
    amount = fields.whole_amount(body.get("Amount"))
    if amount is None or amount < 1:
        raise InvalidField("Amount")
    receiver = fields.shortcode(body.get("ReceiverParty"))
    if receiver is None:
        raise InvalidField("ReceiverParty")
    # The misspelling is Daraja's own.
    if str(body.get("RecieverIdentifierType")) not in ("11", "4"):
        raise InvalidField("RecieverIdentifierType")
    for name in ("ResultURL", "QueueTimeOutURL"):
        if not _url_ok(state, body.get(name)):
            raise InvalidField(name)
    if fields.text(body.get("Remarks")) is None:
        raise InvalidField("Remarks")
    return ReversalRequest(
        transaction_id=transaction_id,
        amount=amount,
        receiver_party=receiver,
        result_url=str(body["ResultURL"]),
        queue_timeout_url=str(body["QueueTimeOutURL"]),
    )


def reversal(*, state: SimulatorState, body: dict[str, Any]) -> ReversalAccepted:
    request = parse_request(state, body)
    now = state.clock.now()
    accepted = ReversalAccepted(
        originator_conversation_id=state.ids.request_id(),
        conversation_id=state.ids.conversation_id(at=now),
    )
    # Decided now, so "the next N requests" of a fault means exactly those.
    timed_out = state.faults.take_result_timeout(REVERSAL_PATH)
    forced = None if timed_out else state.faults.take_result_code(REVERSAL_PATH)
    state.spawn(
        _send_result(state, request, accepted, timed_out=timed_out, forced=forced),
        name=f"reversal {accepted.conversation_id}",
    )
    return accepted


def _original(state: SimulatorState, request: ReversalRequest) -> LedgerEntry | None:
    entry = state.ledger.by_receipt(request.transaction_id)
    if entry is None or request.receiver_party not in (entry.shortcode, entry.party_b):
        return None
    return entry


def result_document(
    state: SimulatorState,
    request: ReversalRequest,
    accepted: ReversalAccepted,
    *,
    timed_out: bool,
    forced: str | None,
) -> dict[str, Any]:
    """Decide the Reversal (moving the ledger's money when it succeeds) and write its Result."""
    result: dict[str, Any] = {
        "ResultType": 0,
        "OriginatorConversationID": accepted.originator_conversation_id,
        "ConversationID": accepted.conversation_id,
        "ReferenceData": {
            "ReferenceItem": {"Key": "QueueTimeoutURL", "Value": request.queue_timeout_url}
        },
    }
    code = _decide(state, request, timed_out=timed_out, forced=forced)
    if timed_out:
        result.update(ResultCode=QUEUE_TIMEOUT[0], ResultDesc=QUEUE_TIMEOUT[1])
        result["TransactionID"] = request.transaction_id
    elif code != "0":
        # Safaricom's failure sample carries the code as a string.
        result.update(ResultCode=code, ResultDesc=DESCRIPTIONS.get(code, "Reversal declined."))
        result["TransactionID"] = state.ids.receipt(at=state.clock.now())
    else:
        entry = _original(state, request)
        assert entry is not None  # _decide found it
        now = state.clock.now()
        reversal_id = state.ids.receipt(at=now)
        balance = state.ledger.reverse(entry, reversal_id=reversal_id)
        state.notify()
        merchant = state.settings.shortcode(entry.shortcode)
        organization = merchant.organization_name if merchant is not None else entry.shortcode
        result.update(ResultCode=0, ResultDesc=OK, TransactionID=reversal_id)
        result["ResultParameters"] = {
            "ResultParameter": [
                {"Key": "DebitAccountBalance", "Value": f"Utility Account|KES|{balance}.00"},
                {"Key": "Amount", "Value": entry.amount},
                {"Key": "TransCompletedTime", "Value": int(daraja_timestamp(now))},
                {"Key": "OriginalTransactionID", "Value": entry.receipt},
                {"Key": "Charge", "Value": 0},
                {"Key": "CreditPartyPublicName", "Value": f"{entry.phone} - {entry.customer_name}"},
                {"Key": "DebitPartyPublicName", "Value": f"{entry.shortcode} - {organization}"},
            ]
        }
    return {"Result": result}


def _decide(
    state: SimulatorState, request: ReversalRequest, *, timed_out: bool, forced: str | None
) -> str:
    if timed_out:
        return "timeout"
    if forced is not None:
        return forced
    entry = _original(state, request)
    if entry is None or request.amount > entry.amount:
        return "R000002"
    if state.ledger.reversal_of(entry.receipt) is not None:
        return "R000001"
    if state.ledger.balance(entry.shortcode) < entry.amount:
        return "1"
    return "0"


async def _send_result(
    state: SimulatorState,
    request: ReversalRequest,
    accepted: ReversalAccepted,
    *,
    timed_out: bool,
    forced: str | None,
) -> None:
    await state.clock.sleep(state.settings.SYSTEM_DELAY_S)
    document = result_document(state, request, accepted, timed_out=timed_out, forced=forced)
    await state.callbacks.deliver(
        kind="queue_timeout" if timed_out else "reversal",
        reference=accepted.conversation_id,
        url=request.queue_timeout_url if timed_out else request.result_url,
        content=json.dumps(document),
    )
