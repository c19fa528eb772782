"""Reading Daraja's successful answers into typed results: STK Query's two shapes, the
acknowledgement of an asynchronous request, and Pull Transactions' loosely typed rows."""

from __future__ import annotations

from datetime import datetime
from json import dumps
from typing import Any

import structlog

from payment_gateway.integrations.daraja.catalogue import normalise_result_code
from payment_gateway.integrations.daraja.errors import (
    DarajaRejected,
    DarajaUnavailable,
    envelope_of,
    parse_json_object,
)
from payment_gateway.integrations.daraja.numbers import to_decimal
from payment_gateway.integrations.daraja.schemas import (
    PullTransaction,
    PullTransactionsPage,
    ResultAck,
    StkQueryResult,
)
from payment_gateway.integrations.daraja.timestamps import NAIROBI, parse_daraja_timestamp

log = structlog.get_logger("payment_gateway.daraja")

PENDING_RESULT_CODE = "4999"


def query_result(payload: dict[str, Any]) -> StkQueryResult:
    envelope = envelope_of(payload)
    if envelope is not None and envelope.is_query_pending:
        return StkQueryResult(
            result_code=None,
            result_desc=envelope.message,
            pending=True,
            # Daraja puts the CheckoutRequestID in requestId of this envelope.
            checkout_request_id=envelope.request_id,
            raw=payload,
        )
    code = normalise_result_code(payload.get("ResultCode"))
    if code is None:
        raise DarajaUnavailable(
            "STK Query answered without a ResultCode",
            maybe_processed=False,
            http_status=200,
            body=dump(payload),
        )
    pending = code == PENDING_RESULT_CODE
    return StkQueryResult(
        result_code=None if pending else code,
        result_desc=str(payload.get("ResultDesc") or ""),
        pending=pending,
        merchant_request_id=str_or_none(payload.get("MerchantRequestID")),
        checkout_request_id=str_or_none(payload.get("CheckoutRequestID")),
        raw=payload,
    )


def result_ack(payload: dict[str, Any]) -> ResultAck:
    response_code = normalise_result_code(payload.get("ResponseCode"))
    if response_code != "0":
        raise DarajaRejected(
            str(payload.get("ResponseDescription") or "request not accepted"),
            http_status=200,
            error_code=response_code,
            body=dump(payload),
        )
    return ResultAck.model_validate({**payload, "ResponseCode": response_code})


def pull_page(payload: dict[str, Any]) -> PullTransactionsPage:
    top = {str(k).lower(): v for k, v in payload.items()}
    rows = top.get("response", top.get("transaction"))
    transactions = [t for t in map(_pull_transaction, _flatten(rows)) if t is not None]
    return PullTransactionsPage(
        response_code=normalise_result_code(top.get("responsecode")) or "",
        response_message=str(top.get("responsemessage") or ""),
        response_ref_id=str_or_none(top.get("responserefid")),
        transactions=transactions,
        raw=payload,
    )


def _flatten(value: Any) -> list[dict[str, Any]]:
    """The rows of Pull Transactions' doubly nested list (sometimes sent as a JSON string)."""
    if isinstance(value, str):
        parsed = parse_json_object(f'{{"v": {value}}}') if value.strip() else None
        value = parsed.get("v") if parsed else None
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [row for item in value for row in _flatten(item)]
    return []


def _pull_transaction(row: dict[str, Any]) -> PullTransaction | None:
    fields = {str(k).lower(): v for k, v in row.items()}
    transaction_id = str_or_none(fields.get("transactionid"))
    if not transaction_id:
        log.warning("daraja_pull_row_without_id", keys=sorted(fields))
        return None
    return PullTransaction(
        transaction_id=transaction_id,
        transaction_date=_pull_date(fields.get("trxdate")),
        msisdn=str_or_none(fields.get("msisdn")),
        sender=str_or_none(fields.get("sender")),
        transaction_type=str_or_none(fields.get("transactiontype")),
        bill_reference=str_or_none(fields.get("billreference")),
        amount=to_decimal(fields.get("amount")),
        organization_name=str_or_none(fields.get("organizationname")),
        raw=row,
    )


def pull_time(moment: datetime) -> str:
    return moment.astimezone(NAIROBI).strftime("%Y-%m-%d %H:%M:%S")


def _pull_date(value: Any) -> datetime | None:
    """``trxDate`` as an aware datetime: ISO 8601 (naive read as Nairobi time) or
    ``YYYYMMDDHHmmss``."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    try:
        return parse_daraja_timestamp(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=NAIROBI)


def seconds(value: Any) -> float | None:
    """``expires_in``: Daraja sends the string "3599"; its newer docs show a number."""
    number = to_decimal(value)
    return float(number) if number is not None and number > 0 else None


def str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def dump(payload: dict[str, Any]) -> str:
    return dumps(payload, default=str)[:2000]
