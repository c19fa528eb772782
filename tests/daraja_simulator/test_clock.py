"""The simulator's clock: customer delays end when their scaled time passes or when the clock is
advanced past them."""

from __future__ import annotations

import asyncio

from daraja_simulator.clock import Clock


async def sleeping(clock: Clock, count: int) -> None:
    """Let the loop run until `count` delays wait on the clock (a delay the clock woke but did not
    pass waits again)."""
    while clock.sleeping != count:  # noqa: ASYNC110 (the clock has no event for this; it is a yield)
        await asyncio.sleep(0)


async def test_advancing_past_a_delay_ends_it_and_advancing_short_of_it_does_not() -> None:
    clock = Clock(time_scale=1.0)  # an hour's delay would take an hour of real time
    delay = asyncio.create_task(clock.sleep(3600))
    await sleeping(clock, 1)

    clock.advance(1800)
    assert clock.sleeping == 0
    await asyncio.wait_for(sleeping(clock, 1), timeout=5)
    assert not delay.done()

    clock.advance(1800)
    await asyncio.wait_for(delay, timeout=5)
    assert clock.sleeping == 0


async def test_a_delay_ends_after_its_scaled_time_without_any_advance() -> None:
    clock = Clock(time_scale=0.0001)
    await asyncio.wait_for(clock.sleep(100), timeout=5)
    assert clock.sleeping == 0
