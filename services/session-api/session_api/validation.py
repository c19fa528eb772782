"""Input types shared by request schemas: Kenyan phone numbers, e-mail addresses, KES amounts."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from shared.schemas import INT32_MAX, SettingLimits, Text

_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
# [0-9], not \d: \d would take other scripts' digits, which M-Pesa does not.
_LOCAL = re.compile(r"^0([17][0-9]{8})$")
_INTERNATIONAL = re.compile(r"^\+?254([17][0-9]{8})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

PHONE_FORMATS = "07XXXXXXXX, 01XXXXXXXX, 2547XXXXXXXX, 2541XXXXXXXX or +2547XXXXXXXX"


def normalize_phone(value: str) -> str:
    """A Kenyan mobile number in any common spelling as `254XXXXXXXXX`."""
    compact = _PHONE_SEPARATORS.sub("", value)
    match = _LOCAL.match(compact) or _INTERNATIONAL.match(compact)
    if match is None:
        raise ValueError(f"not a Kenyan mobile number; use {PHONE_FORMATS}")
    return "254" + match.group(1)


def mask_phone(phone: str) -> str:
    """Every digit but the last four hidden, as in our logs."""
    digits = re.sub(r"\D", "", phone)
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("not an e-mail address (name@example.com)")
    return email


KenyanPhone = Annotated[
    Text,
    StringConstraints(max_length=20),
    AfterValidator(normalize_phone),
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
