"""STK checkouts (one per accepted push), in memory, with the per-phone rules Daraja enforces:
one open prompt per phone, and the same phone and amount again within the duplicate window."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from daraja_simulator.behaviours import Behaviour, CustomerAction, Outcome


class Stage(StrEnum):
    prompt_open = "prompt_open"  # the customer has the prompt and has not answered
    processing = "processing"  # the outcome is settled, Daraja has not reported it yet
    reported = "reported"  # the query gives the final answer


@dataclass(eq=False)
class Checkout:
    checkout_request_id: str
    merchant_request_id: str
    shortcode: str
    party_a: str
    party_b: str
    phone: str
    amount: int
    transaction_type: str
    account_reference: str
    description: str
    callback_url: str
    created_at: datetime
    behaviour: Behaviour
    decision: asyncio.Future[CustomerAction]
    # Set when Daraja settles the request without asking the customer (rules 17 and 2028).
    immediate: Outcome | None = None
    prompt_open: bool = True
    ignored: bool = False
    action: CustomerAction | None = None
    outcome: Outcome | None = None
    reported: Outcome | None = None
    receipt: str | None = None
    completed_at: datetime | None = None
    timers: list[asyncio.TimerHandle] = field(default_factory=list)

    @property
    def stage(self) -> Stage:
        if self.prompt_open:
            return Stage.prompt_open
        if self.reported is None:
            return Stage.processing
        return Stage.reported


class CheckoutStore:
    def __init__(self) -> None:
        self._checkouts: dict[str, Checkout] = {}
        self._last_prompt: dict[tuple[str, int], datetime] = {}

    def reset(self) -> None:
        for checkout in self._checkouts.values():
            for timer in checkout.timers:
                timer.cancel()
            checkout.decision.cancel()
        self._checkouts.clear()
        self._last_prompt.clear()

    def add(self, checkout: Checkout) -> None:
        self._checkouts[checkout.checkout_request_id] = checkout

    def get(self, checkout_request_id: str) -> Checkout | None:
        return self._checkouts.get(checkout_request_id)

    def __contains__(self, checkout_request_id: str) -> bool:
        return checkout_request_id in self._checkouts

    def all(self) -> list[Checkout]:
        return list(self._checkouts.values())

    def open_prompts(self) -> list[Checkout]:
        return [c for c in self._checkouts.values() if c.prompt_open]

    def open_prompt_for(self, phone: str) -> Checkout | None:
        return next((c for c in self.open_prompts() if c.phone == phone), None)

    def prompted_recently(self, *, phone: str, amount: int, now: datetime, window_s: float) -> bool:
        last = self._last_prompt.get((phone, amount))
        return last is not None and now - last < timedelta(seconds=window_s)

    def note_prompt(self, *, phone: str, amount: int, at: datetime) -> None:
        self._last_prompt[(phone, amount)] = at
