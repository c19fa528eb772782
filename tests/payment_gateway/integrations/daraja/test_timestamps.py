from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_gateway.integrations.daraja import (
    NAIROBI,
    daraja_timestamp,
    parse_daraja_timestamp,
    stk_password,
)

SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"


def test_password_matches_safaricoms_own_sample() -> None:
    assert stk_password("174379", SANDBOX_PASSKEY, "20210628092408") == (
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGEx"
        "ZWQyYzkxOTIwMjEwNjI4MDkyNDA4"
    )


def test_timestamp_is_nairobi_wall_time() -> None:
    assert daraja_timestamp(datetime(2024, 12, 31, 21, 30, 5, tzinfo=UTC)) == "20250101003005"


def test_timestamp_defaults_to_the_clock_in_nairobi() -> None:
    before = datetime.now(NAIROBI).replace(microsecond=0, tzinfo=None)
    stamp = datetime.strptime(daraja_timestamp(), "%Y%m%d%H%M%S")
    after = datetime.now(NAIROBI).replace(tzinfo=None)
    assert before <= stamp <= after


def test_timestamp_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="aware"):
        daraja_timestamp(datetime(2024, 1, 1, 12, 0))


def test_parse_reads_nairobi_time_into_utc() -> None:
    parsed = parse_daraja_timestamp(20191219102115)
    assert parsed == datetime(2019, 12, 19, 7, 21, 15, tzinfo=UTC)
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize("value", ["2019121910211", "20191319102115", "abcdefghijklmn", "", True])
def test_parse_refuses_what_is_not_a_timestamp(value: str) -> None:
    with pytest.raises(ValueError):
        parse_daraja_timestamp(value)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_format_and_parse_round_trip_to_the_second(moment: datetime) -> None:
    aware = moment.replace(microsecond=0, tzinfo=UTC)
    assert parse_daraja_timestamp(daraja_timestamp(aware)) == aware
