"""Kenyan mobile numbers: every spelling people type reduced to Daraja's `254XXXXXXXXX`, and the
masked form shown wherever a number must not be read in full."""

from __future__ import annotations

import hashlib
import hmac
import re

PHONE_FORMATS = (
    "07XXXXXXXX, 01XXXXXXXX, 2547XXXXXXXX, 2541XXXXXXXX, +2547XXXXXXXX or +2541XXXXXXXX "
    "(spaces, dashes and brackets allowed)"
)
_SEPARATORS = re.compile(r"[\s\-()]")
# [0-9], not \d: \d would take other scripts' digits, which M-Pesa does not.
_FORMS = re.compile(r"^(?:\+254|254|0)([17][0-9]{8})$")


def normalise_phone(value: str) -> str:
    """`254XXXXXXXXX`, or ValueError naming the accepted formats."""
    match = _FORMS.match(_SEPARATORS.sub("", value))
    if match is None:
        raise ValueError(f"not a Kenyan mobile number; use {PHONE_FORMATS}")
    return "254" + match.group(1)


def mask_phone(phone: str) -> str:
    """The country code and the last four digits, `254*****5678`: enough to recognise, not to
    call."""
    digits = re.sub(r"[^0-9]", "", phone)
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


# What an erased phone becomes: `hmac:` and the hex HMAC-SHA256 of `254XXXXXXXXX` under a key from
# settings. Equal phones give equal hashes (staff can still tell two erased payments came from one
# phone); without the key nobody can test a guess against it.
ERASED_PHONE_PATTERN = r"^hmac:[0-9a-f]{64}$"


def keyed_phone_hash(phone: str, *, key: str) -> str:
    digest = hmac.new(key.encode(), normalise_phone(phone).encode(), hashlib.sha256).hexdigest()
    return f"hmac:{digest}"
