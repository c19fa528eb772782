"""Reading Transaction Status results as Daraja really sends them."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_gateway.integrations.daraja import ResultParseError, parse_result


def test_the_documented_result() -> None:
    body = {
        "Result": {
            "ConversationID": "AG_20180223_0000493344ae97d86f75",
            "OriginatorConversationID": "3213-416199-2",
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "ResultParameters": {
                "ResultParameter": [
                    {"Key": "DebitPartyName", "Value": "254708374149 - John Doe"},
                    {"Key": "DebitPartyName", "Value": "600310 - Safaricom333"},
                    {"Key": "TransactionReason"},
                    {"Key": "TransactionStatus", "Value": "Completed"},
                    {"Key": "Amount", "Value": "300"},
                    {"Key": "ReceiptNo", "Value": "MBN31H462N"},
                ]
            },
            "TransactionID": "MBN0000000",
        }
    }

    result = parse_result(json.dumps(body))

    assert (result.result_code, result.receipt, result.amount, result.status) == (
        "0",
        "MBN31H462N",
        Decimal("300"),
        "completed",
    )
    assert result.debit_party == "254708374149 - John Doe"  # the first of a repeated key


def test_one_parameter_comes_as_an_object_and_keys_with_spaces_or_other_case() -> None:
    body = {
        "result": {
            "resultCode": "2032",
            "Originator Conversation ID": "x-1",
            "ResultParameters": {"ResultParameter": {"Key": "Receipt No", "Value": 20200625}},
        }
    }

    result = parse_result(json.dumps(body))

    assert (result.result_code, result.originator_conversation_id, result.receipt) == (
        "2032",
        "x-1",
        "20200625",
    )


@pytest.mark.parametrize("body", [b"", b"[]", b'{"Result": 1}', b'{"Result": {"ResultDesc": "x"}}'])
def test_what_is_not_a_result_is_named(body: bytes) -> None:
    with pytest.raises(ResultParseError):
        parse_result(body)


@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=5), c),
        max_leaves=10,
    )
)
def test_any_json_either_parses_or_is_refused_by_name(value: object) -> None:
    try:
        result = parse_result(json.dumps({"Result": value}))
    except ResultParseError as e:
        assert str(e)
    else:
        assert result.result_code
