import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from session_api.validation import KenyanPhone, normalize_email
from shared.phone import mask_phone

subscriber = st.from_regex(r"[17][0-9]{8}", fullmatch=True)
kenyan_phone: TypeAdapter[str] = TypeAdapter(KenyanPhone)


def normalize_phone(raw: str) -> str:
    """KenyanPhone as a request schema applies it; its ValueError as the schema reports it."""
    try:
        return kenyan_phone.validate_python(raw)
    except ValidationError as e:
        raise ValueError(str(e)) from e


class TestPhone:
    @given(subscriber, st.sampled_from(["0{}", "254{}", "+254{}", "+254 {}", "0{}-"]))
    def test_every_accepted_spelling_normalizes_to_254(self, digits: str, spelling: str) -> None:
        # Property 7 (004): Kenyan mobile numbers in the usual spellings are accepted.
        raw = spelling.format(digits).rstrip("-")
        grouped = raw[:-6] + " " + raw[-6:-3] + "-" + raw[-3:]

        assert normalize_phone(raw) == "254" + digits
        assert normalize_phone(grouped) == "254" + digits

    # One-line text: control characters are refused earlier, by every string field.
    @given(st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20))
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
    def test_masking_keeps_the_country_code_and_the_last_four_digits(self, digits: str) -> None:
        # Property 47 (004): phone numbers are shown masked to their last 4 digits.
        masked = mask_phone("254" + digits)

        assert masked == "254*****" + digits[-4:]


class TestEmail:
    def test_lowercases_and_trims(self) -> None:
        assert normalize_email("  Amina@Example.COM ") == "amina@example.com"

    @pytest.mark.parametrize("raw", ["", "amina", "amina@", "@example.com", "a b@example.com"])
    def test_refuses_what_is_not_an_address(self, raw: str) -> None:
        with pytest.raises(ValueError, match="e-mail"):
            normalize_email(raw)
