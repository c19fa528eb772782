"""Property-based checks of the two rules every client trips over: the Password, and naming the
field that is wrong."""

import base64
import string
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from daraja_simulator import fields
from daraja_simulator.clock import daraja_timestamp
from daraja_simulator.config import SANDBOX_PASSKEY, Settings
from daraja_simulator.config import Shortcode as ShortcodeConfig
from daraja_simulator.errors import InvalidField
from daraja_simulator.stk import service, validation
from daraja_simulator.stk.exceptions import WrongCredentials

shortcodes = st.from_regex(r"\A[1-9]\d{4,6}\Z")
passkeys = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=64)
timestamps = st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.strftime("%Y%m%d%H%M%S")
)
RULES = validation.Rules(
    min_amount=1, max_amount=250_000, require_https=False, blocked_words=("mpesa",)
)


BASE = Settings()


def settings_for(shortcode: str, passkey: str) -> Settings:
    merchant = ShortcodeConfig(shortcode=shortcode, passkey=passkey)
    return BASE.model_copy(update={"SHORTCODES": [merchant]})


@given(shortcode=shortcodes, passkey=passkeys, timestamp=timestamps)
def test_the_right_password_is_accepted(shortcode: str, passkey: str, timestamp: str) -> None:
    password = base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode()

    merchant = service.authorise(
        settings_for(shortcode, passkey),
        shortcode=shortcode,
        password=password,
        timestamp=timestamp,
    )

    assert merchant.shortcode == shortcode


@given(shortcode=shortcodes, passkey=passkeys, timestamp=timestamps, password=st.text(max_size=120))
def test_any_other_password_is_wrong_credentials(
    shortcode: str, passkey: str, timestamp: str, password: str
) -> None:
    assume(password != base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode())

    with pytest.raises(WrongCredentials):
        service.authorise(
            settings_for(shortcode, passkey),
            shortcode=shortcode,
            password=password,
            timestamp=timestamp,
        )


@given(
    shortcode=shortcodes,
    passkey=passkeys,
    timestamp=timestamps,
    other=timestamps,
)
def test_a_password_for_another_timestamp_is_wrong(
    shortcode: str, passkey: str, timestamp: str, other: str
) -> None:
    assume(other != timestamp)
    password = base64.b64encode(f"{shortcode}{passkey}{other}".encode()).decode()

    assert not validation.password_matches(
        password=password, shortcode=shortcode, passkey=passkey, timestamp=timestamp
    )


def valid_body(**fields: Any) -> dict[str, Any]:
    stamp = daraja_timestamp(datetime.now().astimezone())
    body: dict[str, Any] = {
        "BusinessShortCode": "174379",
        "Password": validation.expected_password(
            shortcode="174379", passkey=SANDBOX_PASSKEY, timestamp=stamp
        ),
        "Timestamp": stamp,
        "TransactionType": "CustomerPayBillOnline",
        "Amount": "10",
        "PartyA": "254708374149",
        "PartyB": "174379",
        "PhoneNumber": "254708374149",
        "CallBackURL": "https://example.com/callbacks/stk/abc",
        "AccountReference": "ORDER-1",
        "TransactionDesc": "Order 1",
    }
    body.update(fields)
    return body


def is_valid_msisdn(value: Any) -> bool:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return (
        isinstance(text, str)
        and len(text) == 12
        and text.isascii()
        and text.isdigit()
        and text.startswith(("2547", "2541"))
    )


bad_phones = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.from_regex(r"\A(0|\+254|254)?[0-9]{7,11}\Z"),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.decimals(allow_nan=False, allow_infinity=False),
).filter(lambda v: not is_valid_msisdn(v))


@given(phone=bad_phones)
def test_a_malformed_phone_number_names_the_field(phone: Any) -> None:
    with pytest.raises(InvalidField) as refused:
        validation.parse_push(valid_body(PhoneNumber=phone), RULES)

    assert refused.value.field == "PhoneNumber"
    assert refused.value.message == "Bad Request - Invalid PhoneNumber"


@given(phone=bad_phones)
def test_a_malformed_party_a_names_the_field(phone: Any) -> None:
    with pytest.raises(InvalidField) as refused:
        validation.parse_push(valid_body(PartyA=phone), RULES)

    assert refused.value.field == "PartyA"


def is_valid_amount(value: Any) -> bool:
    amount = fields.whole_amount(value)
    return amount is not None and 1 <= amount <= 250_000


bad_amounts = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=250_001),
    st.decimals(allow_nan=True, allow_infinity=True).filter(
        lambda d: not d.is_finite() or d != d.to_integral_value()
    ),
    st.text(max_size=12),
    st.none(),
    st.booleans(),
    st.lists(st.integers(min_value=1, max_value=10), max_size=2),
).filter(lambda v: not is_valid_amount(v))


@given(amount=bad_amounts)
def test_a_malformed_amount_names_the_field(amount: Any) -> None:
    with pytest.raises(InvalidField) as refused:
        validation.parse_push(valid_body(Amount=amount), RULES)

    assert refused.value.field == "Amount"
    assert refused.value.message == "Bad Request - Invalid Amount"


@given(
    amount=st.integers(min_value=1, max_value=250_000), form=st.sampled_from(["int", "str", "dec"])
)
def test_every_whole_amount_in_range_is_accepted(amount: int, form: str) -> None:
    value: Any = {"int": amount, "str": str(amount), "dec": Decimal(f"{amount}.00")}[form]

    request = validation.parse_push(valid_body(Amount=value), RULES)

    assert request.amount == amount
