import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_gateway.integrations.daraja import (
    NAIROBI,
    CallbackParseError,
    StkCallback,
    daraja_timestamp,
    parse_stk_callback,
)

# Unit tests: anything slower than this is stuck.
pytestmark = pytest.mark.timeout(30)

OFFICIAL_SUCCESS = b"""{
    "Body": {
        "stkCallback": {
            "MerchantRequestID": "29115-34620561-1",
            "CheckoutRequestID": "ws_CO_191220191020363925",
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "CallbackMetadata": {
                "Item": [
                    { "Name": "Amount", "Value": 1.00 },
                    { "Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV" },
                    { "Name": "TransactionDate", "Value": 20191219102115 },
                    { "Name": "PhoneNumber", "Value": 254708374149 }
                ]
            }
        }
    }
}"""
REAL_WITH_BALANCE = (
    b'{"Body":{"stkCallback":{"MerchantRequestID":"11225-96181251-1","CheckoutRequestID":'
    b'"ws_CO_17112022155730304796440427","ResultCode":0,"ResultDesc":"The service request is '
    b'processed successfully.","CallbackMetadata":{"Item":[{"Name":"Amount","Value":1.00},'
    b'{"Name":"MpesaReceiptNumber","Value":"QKH94M1Z11"},{"Name":"Balance"},{"Name":'
    b'"TransactionDate","Value":20221117155745},{"Name":"PhoneNumber","Value":254796440427}]}}}}'
)
OFFICIAL_FAILURE = b"""{
    "Body": {
        "stkCallback": {
            "MerchantRequestID": "f1e2-4b95-a71d-b30d3cdbb7a7942864",
            "CheckoutRequestID": "ws_CO_21072024125243250722943992",
            "ResultCode": 1032,
            "ResultDesc": "Request cancelled by user"
        }
    }
}"""


def callback(result_code: Any = 0, items: list[Any] | None = None) -> dict[str, Any]:
    stk: dict[str, Any] = {
        "MerchantRequestID": "m-1",
        "CheckoutRequestID": "ws_CO_1",
        "ResultCode": result_code,
        "ResultDesc": "desc",
    }
    if items is not None:
        stk["CallbackMetadata"] = {"Item": items}
    return {"Body": {"stkCallback": stk}}


def test_the_official_success_sample() -> None:
    parsed = parse_stk_callback(OFFICIAL_SUCCESS)
    assert parsed == StkCallback(
        merchant_request_id="29115-34620561-1",
        checkout_request_id="ws_CO_191220191020363925",
        result_code="0",
        result_desc="The service request is processed successfully.",
        amount=1,
        amount_raw=Decimal("1.00"),
        receipt_number="NLJ7RT61SV",
        transaction_date=datetime(2019, 12, 19, 7, 21, 15, tzinfo=UTC),
        phone="254708374149",
        balance=None,
        metadata={
            "Amount": Decimal("1.00"),
            "MpesaReceiptNumber": "NLJ7RT61SV",
            "TransactionDate": 20191219102115,
            "PhoneNumber": 254708374149,
        },
    )
    assert parsed.is_success and parsed.amount_is_whole


def test_a_balance_item_without_value() -> None:
    parsed = parse_stk_callback(REAL_WITH_BALANCE)
    assert parsed.is_success
    assert parsed.balance is None and "Balance" in parsed.metadata
    assert (parsed.amount, parsed.receipt_number, parsed.phone) == (1, "QKH94M1Z11", "254796440427")
    assert parsed.transaction_date == datetime(2022, 11, 17, 12, 57, 45, tzinfo=UTC)


def test_the_official_failure_sample_has_no_metadata() -> None:
    parsed = parse_stk_callback(OFFICIAL_FAILURE)
    assert (parsed.result_code, parsed.result_desc) == ("1032", "Request cancelled by user")
    assert parsed.amount is None and parsed.receipt_number is None and parsed.metadata == {}
    assert not parsed.is_success


def test_a_string_result_code() -> None:
    parsed = parse_stk_callback(
        b'{"Body":{"stkCallback":{"CheckoutRequestID":"ws_CO_9","ResultCode":"E3008",'
        b'"ResultDesc":"Error, the user has a bad debt contract."}}}'
    )
    assert parsed.result_code == "E3008"
    assert parsed.merchant_request_id is None
    assert not parsed.is_success


@pytest.mark.parametrize(
    ("raw", "amount"),
    [(b"1.00", 1), (b"1.0", 1), (b"60", 60), (b'"250000.00"', 250000), (b"1e2", 100)],
)
def test_amounts_are_read_exactly_as_whole_kes(raw: bytes, amount: int) -> None:
    body = (
        b'{"Body":{"stkCallback":{"CheckoutRequestID":"c","ResultCode":0,"CallbackMetadata":'
        b'{"Item":[{"Name":"Amount","Value":' + raw + b"}]}}}}"
    )
    parsed = parse_stk_callback(body)
    assert parsed.amount == amount and type(parsed.amount) is int
    assert parsed.amount_is_whole


def test_a_fractional_amount_is_kept_raw_and_flagged() -> None:
    parsed = parse_stk_callback(
        callback(
            items=[{"Name": "Amount", "Value": 10.5}, {"Name": "MpesaReceiptNumber", "Value": "R"}]
        )
    )
    assert parsed.amount is None
    assert parsed.amount_raw == Decimal("10.5")
    assert parsed.amount_is_whole is False
    assert parsed.is_success, "the receipt still proves a payment: the caller holds it for review"


def test_a_decoded_body_with_floats_is_read_exactly() -> None:
    parsed = parse_stk_callback(callback(items=[{"Name": "Amount", "Value": 0.1 + 0.2}]))
    assert parsed.amount_raw == Decimal("0.30000000000000004") and parsed.amount is None
    assert parse_stk_callback(callback(items=[{"Name": "Amount", "Value": 100.0}])).amount == 100


@pytest.mark.parametrize("receipt", ["NOT A RECEIPT", "R" * 33, "ÜKM1AB2CD3", 1234.5])
def test_a_receipt_that_cannot_be_one_is_no_receipt(receipt: Any) -> None:
    parsed = parse_stk_callback(
        callback(items=[{"Name": "MpesaReceiptNumber", "Value": receipt}, {"Name": "Amount"}])
    )
    assert parsed.receipt_number is None and not parsed.is_success


def test_ids_longer_than_daraja_gives_are_refused_or_dropped() -> None:
    body = callback()
    body["Body"]["stkCallback"]["MerchantRequestID"] = "m" * 65
    assert parse_stk_callback(body).merchant_request_id is None
    body["Body"]["stkCallback"]["CheckoutRequestID"] = "ws_CO_" + "1" * 59
    with pytest.raises(CallbackParseError, match="longer than 64"):
        parse_stk_callback(body)


def test_code_zero_without_a_receipt_is_not_success() -> None:
    parsed = parse_stk_callback(callback(items=[{"Name": "Amount", "Value": 5}]))
    assert parsed.result_code == "0" and not parsed.is_success


def test_metadata_is_looked_up_by_name_whatever_the_order() -> None:
    parsed = parse_stk_callback(
        callback(
            items=[
                {"Name": "PhoneNumber", "Value": "254712345678"},
                {"Name": "Something new", "Value": {"x": 1}},
                {"Name": "TransactionDate", "Value": "20240101000000"},
                {"Name": "MpesaReceiptNumber", "Value": " SAB1CD2EF3 "},
                {"Value": "no name"},
                "not an item",
                {"Name": "Amount", "Value": 7},
                {"Name": "Amount", "Value": 8},
            ]
        )
    )
    assert parsed.phone == "254712345678"
    assert parsed.transaction_date == datetime(2023, 12, 31, 21, 0, tzinfo=UTC)
    assert parsed.receipt_number == "SAB1CD2EF3"
    assert parsed.amount == 7, "the first item of a name wins"
    assert parsed.metadata["Something new"] == {"x": 1}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(20191319102115, None), ("yesterday", None), (2019121910211.5, None), (None, None)],
)
def test_a_bad_transaction_date_is_dropped_not_fatal(value: Any, expected: None) -> None:
    parsed = parse_stk_callback(callback(items=[{"Name": "TransactionDate", "Value": value}]))
    assert parsed.transaction_date is expected


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b"{}", "no Body.stkCallback"),
        (b'{"Body": {"stkCallback": []}}', "no Body.stkCallback"),
        (b'{"Body": {"stkCallback": {"ResultCode": 0}}}', "no CheckoutRequestID"),
        (
            b'{"Body": {"stkCallback": {"CheckoutRequestID": "  ", "ResultCode": 0}}}',
            "no CheckoutRequestID",
        ),
        (b'{"Body": {"stkCallback": {"CheckoutRequestID": "c"}}}', "no ResultCode"),
        (
            b'{"Body": {"stkCallback": {"CheckoutRequestID": "c", "ResultCode": null}}}',
            "no ResultCode",
        ),
        (
            b'{"Body": {"stkCallback": {"CheckoutRequestID": "c", "ResultCode": true}}}',
            "no ResultCode",
        ),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_malformed_bodies_raise_a_clear_parse_error(payload: bytes, message: str) -> None:
    with pytest.raises(CallbackParseError, match=message):
        parse_stk_callback(payload)


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(CallbackParseError, ValueError)


# ---- property-based ------------------------------------------------------------------------

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


@pytest.mark.parametrize("raw", [b"1e400", b'"1e999999999"', b'"NaN"', b'"Infinity"', b"-0.0"])
def test_absurd_amounts_are_not_whole_kes(raw: bytes) -> None:
    body = (
        b'{"Body":{"stkCallback":{"CheckoutRequestID":"c","ResultCode":0,"CallbackMetadata":'
        b'{"Item":[{"Name":"Amount","Value":' + raw + b"}]}}}}"
    )
    parsed = parse_stk_callback(body)
    assert parsed.amount in (None, 0)
