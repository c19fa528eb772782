"""Kenyan mobile numbers: every spelling people type reduces to one stored form, anything else is
refused with the accepted formats, and the masked form shows only what identifies a number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.phone import PHONE_FORMATS, mask_phone, normalise_phone

significant = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(["7", "1"]),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


class TestNormalisePhone:
    @given(
        number=significant,
        prefix=st.sampled_from(["0", "254", "+254"]),
        separator=st.sampled_from(["", " ", "-"]),
    )
    def test_every_accepted_spelling_normalises(
        self, number: str, prefix: str, separator: str
    ) -> None:
        spelled = prefix + separator + separator.join([number[:3], number[3:6], number[6:]])
        assert normalise_phone(spelled) == "254" + number
        assert normalise_phone(f"  {spelled} ") == "254" + number

    @pytest.mark.parametrize(
        ("spelled", "stored"),
        [
            ("0712345678", "254712345678"),
            ("0112345678", "254112345678"),
            ("254712345678", "254712345678"),
            ("254112345678", "254112345678"),
            ("+254712345678", "254712345678"),
            ("+254112345678", "254112345678"),
            ("0712 345 678", "254712345678"),
            ("0712-345-678", "254712345678"),
            ("(0712) 345678", "254712345678"),
            ("+254 (712) 345-678", "254712345678"),
        ],
    )
    def test_each_documented_format_is_accepted(self, spelled: str, stored: str) -> None:
        assert normalise_phone(spelled) == stored

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "0812345678",
            "+255712345678",
            "25471234567",
            "2547123456789",
            "07123 4567",
            "7123456789",
            "0712_345_678",
            "٠٧١٢٣٤٥٦٧٨",
        ],
    )
    def test_near_misses_are_refused_naming_the_accepted_formats(self, value: str) -> None:
        with pytest.raises(ValueError, match="not a Kenyan mobile number") as refused:
            normalise_phone(value)
        assert PHONE_FORMATS in str(refused.value)

    @given(text=st.text(max_size=20))
    def test_anything_refused_names_the_formats_and_anything_accepted_is_stored_form(
        self, text: str
    ) -> None:
        try:
            result = normalise_phone(text)
        except ValueError as e:
            assert "07XXXXXXXX" in str(e)
        else:
            assert len(result) == 12 and result.startswith(("2547", "2541")) and result.isdigit()


class TestMaskPhone:
    @given(number=significant)
    def test_keeps_only_the_country_code_and_the_last_four_digits(self, number: str) -> None:
        assert mask_phone("254" + number) == "254*****" + number[-4:]

    def test_masks_a_spelled_number_by_its_digits(self) -> None:
        assert mask_phone("+254 712 345 678") == "254*****5678"

    @pytest.mark.parametrize("short", ["", "1234", "1234567"])
    def test_a_short_value_is_masked_whole(self, short: str) -> None:
        assert mask_phone(short) == "*" * len(short)
