"""Simulated time.

Two kinds of time live here. Customer delays (responding to a prompt, the prompt window, a late
report) are real waits multiplied by ``TIME_SCALE``, so a test at scale 0.001 sees a 60-second
prompt window pass in 60 ms. Validity windows (token lifetime, the 2-minute duplicate rule,
the 48-hour pull window) are compared against :meth:`Clock.now`, wall time plus an offset that
the control API can advance, so a test can step past them without waiting. Advancing the clock
also ends every customer delay it steps past: a late report arrives when the test says so, not
when a race with the gateway's polls is won.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

NAIROBI = ZoneInfo("Africa/Nairobi")


class Clock:
    def __init__(self, *, time_scale: float) -> None:
        self.time_scale = time_scale
        self.offset = timedelta(0)
        # One future per sleeper, created in the sleeper's own event loop.
        self._sleepers: set[asyncio.Future[None]] = set()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    @property
    def sleeping(self) -> int:
        """How many customer delays are waiting on the clock right now."""
        return sum(not sleeper.done() for sleeper in self._sleepers)

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)
        for sleeper in self._sleepers:
            if not sleeper.done():
                sleeper.set_result(None)

    def reset(self) -> None:
        self.offset = timedelta(0)

    def scaled(self, seconds: float) -> float:
        """Real seconds to wait for a simulated delay."""
        return seconds * self.time_scale

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time: their scaled real time, or less when the clock is
        advanced past their end."""
        loop = asyncio.get_running_loop()
        real_end = loop.time() + self.scaled(seconds)
        simulated_end = self.now() + timedelta(seconds=seconds)
        while self.now() < simulated_end:
            remaining = real_end - loop.time()
            if remaining <= 0:
                return
            advanced = loop.create_future()
            self._sleepers.add(advanced)
            try:
                await asyncio.wait_for(advanced, timeout=remaining)
            except TimeoutError:
                return
            finally:
                self._sleepers.discard(advanced)


def daraja_timestamp(moment: datetime) -> str:
    """``YYYYMMDDHHmmss`` in Nairobi time, as Daraja writes TransactionDate and friends."""
    return moment.astimezone(NAIROBI).strftime("%Y%m%d%H%M%S")


def parse_daraja_timestamp(value: str) -> datetime | None:
    """A Daraja ``YYYYMMDDHHmmss`` Nairobi timestamp, or None when it is not one."""
    if len(value) != 14 or not value.isdigit():
        return None
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=NAIROBI)
    except ValueError:
        return None
