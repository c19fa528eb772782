"""Kenyan mobile numbers: every spelling people type, reduced to Daraja's `254XXXXXXXXX`."""

from __future__ import annotations

import re

ACCEPTED_FORMS = (
    "a Kenyan mobile number: 07XXXXXXXX, 01XXXXXXXX, 2547XXXXXXXX, 2541XXXXXXXX or "
    "+2547XXXXXXXX / +2541XXXXXXXX (spaces and dashes allowed)"
)
_SEPARATORS = re.compile(r"[ \-]")
# [0-9], not \d: \d would take other scripts' digits, which Daraja does not.
_FORMS = re.compile(r"^(?:\+254|254|0)([17][0-9]{8})$")


def normalise_phone(value: str) -> str:
    """`254XXXXXXXXX`, or ValueError naming the accepted forms."""
    compact = _SEPARATORS.sub("", value.strip())
    match = _FORMS.match(compact)
    if match is None:
        raise ValueError(f"must be {ACCEPTED_FORMS}")
    return "254" + match.group(1)


def mask_phone(phone: str) -> str:
    """The country code and the last 4 digits: `254*****5678`."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
