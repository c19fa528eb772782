"""C2B URL registrations, in memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class C2BRegistration:
    shortcode: str
    response_type: str  # what M-Pesa does when validation does not answer: Completed | Cancelled
    confirmation_url: str
    validation_url: str | None
    registered_at: datetime


class C2BRegistry:
    def __init__(self) -> None:
        self._registrations: dict[str, C2BRegistration] = {}

    def reset(self) -> None:
        self._registrations.clear()

    def get(self, shortcode: str) -> C2BRegistration | None:
        return self._registrations.get(shortcode)

    def add(self, registration: C2BRegistration) -> None:
        self._registrations[registration.shortcode] = registration
