import asyncio

import pytest

from shared import background

# Unit tests: anything slower than this is stuck.
pytestmark = pytest.mark.timeout(10)


async def swallows_its_cancellation(started: asyncio.Event) -> None:
    # What Python 3.11's asyncio.wait_for (inside redis-py) does when a cancellation lands in
    # the same loop iteration as the reply: the result comes back, the CancelledError does not.
    started.set()
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        return


class TestRunEvery:
    async def test_ends_when_cancelled_even_if_a_step_swallowed_the_cancellation(self) -> None:
        started = asyncio.Event()
        task = asyncio.create_task(
            background.run_every(
                lambda: swallows_its_cancellation(started), every_s=30, what="probe"
            )
        )
        await started.wait()
        assert await background.stop_task(task, grace_s=5)
        assert task.cancelled()

    async def test_a_failing_step_does_not_end_the_loop(self) -> None:
        calls = 0
        third = asyncio.Event()

        async def step() -> None:
            nonlocal calls
            calls += 1
            if calls == 3:
                third.set()
            raise ConnectionError("database blip")

        task = asyncio.create_task(background.run_every(step, every_s=0, what="probe"))
        await asyncio.wait_for(third.wait(), timeout=5)
        assert not task.done()
        assert await background.stop_task(task)


class TestStopTask:
    async def test_gives_up_after_the_grace_on_a_task_that_will_not_stop(self) -> None:
        release = asyncio.Event()
        started = asyncio.Event()

        async def stubborn() -> None:
            started.set()
            while not release.is_set():
                try:
                    await release.wait()
                except asyncio.CancelledError:
                    continue

        task = asyncio.create_task(stubborn())
        await started.wait()
        assert await background.stop_task(task, grace_s=0.05) is False
        assert not task.done()
        release.set()
        await task

    async def test_does_not_swallow_the_callers_own_cancellation(self) -> None:
        # `with suppress(CancelledError): await task` would: the stopper's own cancel is lost.
        inner = asyncio.create_task(asyncio.sleep(30))
        stopping = asyncio.Event()

        async def stopper() -> None:
            stopping.set()
            await background.stop_task(inner, grace_s=30)

        outer = asyncio.create_task(stopper())
        await stopping.wait()
        outer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await outer
