import json
import re

import structlog
from hypothesis import given
from hypothesis import strategies as st

from shared.logging import configure_logging, mask_phone_numbers, mask_processor

significant = st.from_regex(r"\A[17][0-9]{8}\Z", fullmatch=True)
prefix = st.sampled_from(["", "0", "254", "+254", "+254 ", "254-"])
separator = st.sampled_from(["", " ", "-"])
# Text around a number must not itself continue the digit run.
surrounding = st.text(
    alphabet=st.characters(blacklist_categories=("Nd",), blacklist_characters="+"), max_size=20
)


def spelled(number: str, prefix: str, sep: str) -> str:
    return f"{prefix}{number[:3]}{sep}{number[3:6]}{sep}{number[6:]}"


class TestMaskPhoneNumbers:
    @given(significant, prefix, separator, surrounding, surrounding)
    def test_no_nine_digit_run_survives_and_the_last_four_do(
        self, number: str, pre: str, sep: str, before: str, after: str
    ) -> None:
        masked = mask_phone_numbers(before + spelled(number, pre, sep) + after)
        digits_only = re.sub(r"\D", "", masked)
        assert number not in digits_only
        assert not re.search(r"\d{5}", masked)
        assert number[-4:] in digits_only

    def test_keeps_other_numbers(self) -> None:
        assert mask_phone_numbers("order 12345 cost 250000") == "order 12345 cost 250000"

    def test_masks_all_numbers_in_a_string(self) -> None:
        text = "from 0712345678 to 254798765432"
        assert mask_phone_numbers(text) == "from ******5678 to ********5432"


class TestMaskProcessor:
    def test_masks_nested_values_numbers_and_secret_keys(self) -> None:
        event = {
            "event": "callback for 254708374149",
            "body": {"PhoneNumber": 254708374149, "items": ["0708374149"], "Amount": 1},
            "password": "hunter2",
        }
        masked = mask_processor(None, "info", event)
        assert masked["event"] == "callback for ********4149"
        assert masked["body"]["PhoneNumber"] == "********4149"
        assert masked["body"]["items"] == ["******4149"]
        assert masked["body"]["Amount"] == 1
        assert masked["password"] == "***"

    def test_rendered_log_lines_are_masked_json(self, capsys) -> None:
        configure_logging(json=True, service="test")
        structlog.get_logger("t").info("paying", phone="+254 712 345 678")
        line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert line["phone"] == "+*** *** **5 678"
        assert line["service"] == "test"
