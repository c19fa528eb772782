from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from payment_gateway.integrations.daraja import (
    CallbackParseError,
    StkCallback,
    parse_stk_callback,
)
from tests.payment_gateway.integrations.daraja.payloads import callback

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


@pytest.mark.parametrize("raw", [b"1e400", b'"1e999999999"', b'"NaN"', b'"Infinity"', b"-0.0"])
def test_absurd_amounts_are_not_whole_kes(raw: bytes) -> None:
    body = (
        b'{"Body":{"stkCallback":{"CheckoutRequestID":"c","ResultCode":0,"CallbackMetadata":'
        b'{"Item":[{"Name":"Amount","Value":' + raw + b"}]}}}}"
    )
    parsed = parse_stk_callback(body)
    assert parsed.amount in (None, 0)
