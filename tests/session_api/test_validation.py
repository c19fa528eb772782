import pytest
from hypothesis import given
from hypothesis import strategies as st

from session_api.validation import mask_phone, normalize_email, normalize_phone

subscriber = st.from_regex(r"[17][0-9]{8}", fullmatch=True)


class TestPhone:
    @given(subscriber, st.sampled_from(["0{}", "254{}", "+254{}", "+254 {}", "0{}-"]))
    def test_every_accepted_spelling_normalizes_to_254(self, digits: str, spelling: str) -> None:
        # Property 7 (004): Kenyan mobile numbers in the usual spellings are accepted.
        raw = spelling.format(digits).rstrip("-")
        grouped = raw[:-6] + " " + raw[-6:-3] + "-" + raw[-3:]

        assert normalize_phone(raw) == "254" + digits
        assert normalize_phone(grouped) == "254" + digits

    @given(st.text(max_size=20))
    def test_anything_else_is_refused_with_the_accepted_formats(self, raw: str) -> None:
        # Property 9 (004): an invalid number gets an error that says what is accepted.
        try:
            normalized = normalize_phone(raw)
        except ValueError as e:
            assert "07XXXXXXXX" in str(e)
        else:
            assert len(normalized) == 12 and normalized.startswith(("2547", "2541"))

    @pytest.mark.parametrize(
        "raw",
        ["0812345678", "071234567", "07123456789", "254812345678", "+1 712345678", "07x2345678"],
    )
    def test_refuses_near_misses(self, raw: str) -> None:
        with pytest.raises(ValueError, match="not a Kenyan mobile number"):
            normalize_phone(raw)

    @given(subscriber)
    def test_masking_keeps_only_the_last_four_digits(self, digits: str) -> None:
        # Property 47 (004): phone numbers are shown masked to their last 4 digits.
        masked = mask_phone("254" + digits)

        assert masked.endswith(digits[-4:])
        assert set(masked[:-4]) == {"*"}


class TestEmail:
    def test_lowercases_and_trims(self) -> None:
        assert normalize_email("  Amina@Example.COM ") == "amina@example.com"

    @pytest.mark.parametrize("raw", ["", "amina", "amina@", "@example.com", "a b@example.com"])
    def test_refuses_what_is_not_an_address(self, raw: str) -> None:
        with pytest.raises(ValueError, match="e-mail"):
            normalize_email(raw)
