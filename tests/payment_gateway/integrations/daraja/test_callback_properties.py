"""Property-based tests of the STK callback parser: generated callbacks round-trip, and no input
whatever raises anything but a parse error."""

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_gateway.integrations.daraja import (
    NAIROBI,
    CallbackParseError,
    daraja_timestamp,
    parse_stk_callback,
)
from tests.payment_gateway.integrations.daraja.payloads import callback

pytestmark = pytest.mark.timeout(30)


ids = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=40)
nairobi_seconds = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2035, 12, 31)
).map(lambda d: d.replace(microsecond=0, tzinfo=NAIROBI))


@st.composite
def successes(draw: st.DrawFn) -> dict[str, Any]:
    amount = draw(st.integers(min_value=1, max_value=250_000))
    return {
        "merchant_request_id": draw(ids),
        "checkout_request_id": "ws_CO_" + draw(ids),
        "result_code": "0",
        "result_desc": draw(st.text(max_size=60)).strip(),
        "amount": amount,
        "amount_spelling": draw(st.sampled_from(["{}", "{}.0", "{}.00", '"{}.00"'])),
        "receipt_number": draw(st.from_regex(r"[A-Z0-9]{10}", fullmatch=True)),
        "transaction_date": draw(nairobi_seconds),
        "phone": draw(st.from_regex(r"254[17][0-9]{8}", fullmatch=True)),
        "with_balance": draw(st.booleans()),
        "code_as_string": draw(st.booleans()),
    }


def wire(fields: dict[str, Any], order: list[int]) -> bytes:
    """The callback as Daraja would send it, items in ``order``; the amount is spelled raw
    (``60``, ``60.0``, ``60.00`` or a string) as JSON encoders would not."""
    items: list[dict[str, Any]] = [
        {"Name": "Amount", "Value": "<amount>"},
        {"Name": "MpesaReceiptNumber", "Value": fields["receipt_number"]},
        {"Name": "TransactionDate", "Value": int(daraja_timestamp(fields["transaction_date"]))},
        {"Name": "PhoneNumber", "Value": int(fields["phone"])},
    ]
    if fields["with_balance"]:
        items.append({"Name": "Balance"})
    body = {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": fields["merchant_request_id"],
                "CheckoutRequestID": fields["checkout_request_id"],
                "ResultCode": "0" if fields["code_as_string"] else 0,
                "ResultDesc": fields["result_desc"],
                "CallbackMetadata": {"Item": [items[i] for i in order if i < len(items)]},
            }
        }
    }
    amount = fields["amount_spelling"].format(fields["amount"])
    return json.dumps(body).replace('"<amount>"', amount).encode()


@given(successes(), st.permutations(range(5)))
def test_generated_successes_round_trip(fields: dict[str, Any], order: list[int]) -> None:
    parsed = parse_stk_callback(wire(fields, list(order)))
    assert parsed.merchant_request_id == fields["merchant_request_id"]
    assert parsed.checkout_request_id == fields["checkout_request_id"]
    assert parsed.result_code == "0"
    assert parsed.result_desc == fields["result_desc"]
    assert parsed.amount == fields["amount"]
    assert parsed.receipt_number == fields["receipt_number"]
    assert parsed.transaction_date == fields["transaction_date"]
    assert parsed.transaction_date is not None
    assert parsed.transaction_date.utcoffset() == timedelta(0)
    assert parsed.phone == fields["phone"]
    assert parsed.is_success


@given(
    code=st.one_of(
        st.integers(min_value=1, max_value=99_999),
        st.from_regex(r"[A-Z]{1,4}[0-9]{1,6}", fullmatch=True),
    ),
    as_string=st.booleans(),
)
def test_generated_failures_round_trip(code: int | str, as_string: bool) -> None:
    sent: int | str = str(code) if as_string else code
    parsed = parse_stk_callback(json.dumps(callback(result_code=sent)).encode())
    assert parsed.result_code == str(code)
    assert not parsed.is_success


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
key_names = st.sampled_from(
    [
        "MerchantRequestID",
        "CheckoutRequestID",
        "ResultCode",
        "ResultDesc",
        "CallbackMetadata",
        "Item",
        "Name",
        "Value",
        "Amount",
        "PhoneNumber",
        "TransactionDate",
        "MpesaReceiptNumber",
        "Balance",
    ]
)
daraja_shaped = st.recursive(
    json_values,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(key_names, children, max_size=6)
    ),
    max_leaves=12,
)


def parses_or_refuses(payload: Any) -> None:
    try:
        parsed = parse_stk_callback(payload)
    except CallbackParseError:
        return
    assert parsed.checkout_request_id and parsed.result_code
    assert parsed.amount is None or isinstance(parsed.amount, int)


@given(json_values)
def test_arbitrary_json_only_ever_raises_parse_errors(value: Any) -> None:
    parses_or_refuses(json.dumps(value).encode())
    if isinstance(value, dict):
        parses_or_refuses(value)


@given(daraja_shaped, daraja_shaped)
def test_daraja_shaped_garbage_only_ever_raises_parse_errors(stk: Any, metadata: Any) -> None:
    if isinstance(stk, dict):
        stk = {**stk, "CallbackMetadata": metadata}
    payload = {"Body": {"stkCallback": stk}}
    parses_or_refuses(payload)
    parses_or_refuses(json.dumps(payload).encode())


@given(st.binary(max_size=200))
def test_arbitrary_bytes_only_ever_raise_parse_errors(raw: bytes) -> None:
    parses_or_refuses(raw)


metadata_items = st.lists(
    st.fixed_dictionaries(
        {"Name": key_names},
        optional={
            "Value": json_values
            | st.sampled_from(["1e999999999", "NaN", "-Infinity", "1.00", "", " 60 "])
        },
    ),
    max_size=8,
)


@given(metadata_items, st.one_of(json_values, st.sampled_from([0, "0", "E3008", 1032])))
def test_any_metadata_items_only_ever_raise_parse_errors(items: Any, code: Any) -> None:
    parses_or_refuses(callback(result_code=code, items=items))
    parses_or_refuses(json.dumps(callback(result_code=code, items=items)).encode())
