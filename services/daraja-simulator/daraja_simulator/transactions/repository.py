"""Pull Transactions registrations, in memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PullRegistration:
    shortcode: str
    nominated_number: str
    callback_url: str
    registered_at: datetime


class PullRegistry:
    def __init__(self) -> None:
        self._registrations: dict[str, PullRegistration] = {}

    def reset(self) -> None:
        self._registrations.clear()

    def get(self, shortcode: str) -> PullRegistration | None:
        return self._registrations.get(shortcode)

    def add(self, registration: PullRegistration) -> None:
        self._registrations[registration.shortcode] = registration
