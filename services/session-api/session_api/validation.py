"""Input types shared by request schemas: Kenyan phone numbers, e-mail addresses, KES amounts."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from shared.phone import PHONE_FORMATS, normalise_phone
from shared.schemas import INT32_MAX, SettingLimits, Text

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("not an e-mail address (name@example.com)")
    return email


KenyanPhone = Annotated[
    Text,
    StringConstraints(max_length=20),
    AfterValidator(normalise_phone),
    Field(description=f"Kenyan mobile number: {PHONE_FORMATS}.", examples=["0712345678"]),
]
Email = Annotated[Text, StringConstraints(max_length=254), AfterValidator(normalize_email)]
# Strict: a JSON 10.5 or "10" is refused, never rounded or parsed into an amount of money. The
# bound keeps it within an integer column; the settings named where it is used set the real range.
WholeKes = Annotated[
    int, Field(strict=True, ge=1, le=INT32_MAX, description="Whole Kenyan shillings.")
]
PaymentKes = Annotated[WholeKes, SettingLimits("PAYMENT_MIN_KES", "PAYMENT_MAX_KES")]
"""An amount one M-Pesa payment can carry: the range the settings enforce is documented."""
DepositKes = Annotated[WholeKes, SettingLimits("DEPOSIT_MIN_KES", "PAYMENT_MAX_KES")]
"""A wallet deposit: from the deposit minimum to what one M-Pesa payment can carry."""
