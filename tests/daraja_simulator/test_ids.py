import re
from datetime import UTC, datetime

from daraja_simulator.clock import NAIROBI
from daraja_simulator.ids import IdFactory


def test_receipts_encode_year_month_and_day() -> None:
    ids = IdFactory(seed=1)

    # 17 November 2022 in Nairobi, the date of Safaricom's QKH94M1Z11.
    receipt = ids.receipt(at=datetime(2022, 11, 17, 12, 0, tzinfo=NAIROBI))
    new_year = ids.receipt(at=datetime(2019, 12, 31, 21, 30, tzinfo=UTC))  # 1 Jan 2020 Nairobi

    assert re.fullmatch(r"QKH[A-Z0-9]{7}", receipt)
    assert re.fullmatch(r"OA1[A-Z0-9]{7}", new_year)


def test_the_31st_is_v() -> None:
    receipt = IdFactory(seed=1).receipt(at=datetime(2019, 12, 31, 10, 0, tzinfo=NAIROBI))

    assert receipt.startswith("NLV")


def test_receipts_are_unique() -> None:
    ids = IdFactory(seed=3)
    at = datetime(2026, 1, 1, tzinfo=NAIROBI)

    receipts = {ids.receipt(at=at) for _ in range(2000)}

    assert len(receipts) == 2000


def test_checkout_request_id_has_the_time_and_the_number_without_254() -> None:
    at = datetime(2022, 11, 17, 15, 55, 11, 840_000, tzinfo=NAIROBI)

    checkout = IdFactory(seed=1).checkout_request_id(msisdn="254796440427", at=at)

    assert checkout == "ws_CO_17112022155511840796440427"


def test_merchant_request_id_shape_and_counter() -> None:
    ids = IdFactory(seed=1)

    first, second = ids.merchant_request_id(), ids.merchant_request_id()

    pattern = r"([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})(\d{6,7})"
    first_match, second_match = re.fullmatch(pattern, first), re.fullmatch(pattern, second)
    assert first_match and second_match
    assert int(second_match[5]) == int(first_match[5]) + 1


def test_a_seed_reproduces_every_identifier() -> None:
    def sequence(seed: int) -> list[str]:
        ids = IdFactory(seed=seed)
        at = datetime(2026, 3, 4, tzinfo=NAIROBI)
        return [ids.merchant_request_id(), ids.access_token(), ids.receipt(at=at)]

    assert sequence(42) == sequence(42)
    assert sequence(42) != sequence(43)


def test_conversation_id() -> None:
    conversation = IdFactory(seed=1).conversation_id(at=datetime(2018, 2, 23, tzinfo=NAIROBI))

    assert re.fullmatch(r"AG_20180223_[0-9a-f]{20}", conversation)
