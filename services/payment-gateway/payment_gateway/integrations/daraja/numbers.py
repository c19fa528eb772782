"""Exact reading of the numbers Daraja sends as JSON numbers or strings."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

# Far beyond any amount, phone or timestamp either way; arithmetic on Decimals with exponents
# past the default context (1e999999999) raises instead of answering.
_MAX_ADJUSTED_EXPONENT = 30


def to_decimal(value: Any) -> Decimal | None:
    """``value`` (int, Decimal, float or numeric string) as an exact Decimal, or None when it is
    not a sane finite number. Floats are read through their shortest repr, so ``1.1`` stays
    ``1.1``; booleans are not numbers."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, str):
            number = Decimal(value.strip().replace(",", ""))
        else:
            return None
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number.adjusted()) > _MAX_ADJUSTED_EXPONENT:
        return None
    return number


def whole(number: Decimal | None) -> int | None:
    """``number`` as an int when it is a whole number, else None."""
    if number is None or number != number.to_integral_value():
        return None
    return int(number)
