"""Phone normalisation: every spelling people type, one stored form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_gateway.payment.phone import mask_phone, normalise_phone

significant = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(["7", "1"]),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)
separator = st.sampled_from(["", " ", "-"])


@given(number=significant, prefix=st.sampled_from(["0", "254", "+254"]), sep=separator)
def test_every_accepted_form_normalises(number: str, prefix: str, sep: str) -> None:
    spelled = prefix + sep + sep.join([number[:3], number[3:6], number[6:]])
    assert normalise_phone(spelled) == "254" + number
    assert normalise_phone(f"  {spelled} ") == "254" + number


@given(text=st.text(max_size=20))
def test_anything_else_is_refused_with_the_accepted_forms(text: str) -> None:
    try:
        result = normalise_phone(text)
    except ValueError as e:
        assert "07XXXXXXXX" in str(e)
    else:
        assert len(result) == 12 and result.startswith(("2547", "2541")) and result.isdigit()


@pytest.mark.parametrize(
    "value",
    [
        "0812345678",
        "+255712345678",
        "25471234567",
        "2547123456789",
        "07123 4567",
        "7123456789",
        "0712_345_678",
    ],
)
def test_near_misses_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="Kenyan mobile number"):
        normalise_phone(value)


@given(number=significant)
def test_mask_keeps_only_the_country_code_and_last_four(number: str) -> None:
    masked = mask_phone("254" + number)
    assert masked == "254*****" + number[-4:]
