"""Everything the simulator knows, in one object on ``app.state.simulator``.

There is no database: state lives for the life of the process, and :meth:`SimulatorState.reset`
returns it to a fresh start (tests and the control API use it between scenarios).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from daraja_simulator.behaviours import Behaviour
from daraja_simulator.c2b.repository import C2BRegistry
from daraja_simulator.callbacks import CallbackDispatcher
from daraja_simulator.clock import Clock
from daraja_simulator.config import Settings
from daraja_simulator.faults import FaultBoard
from daraja_simulator.ids import IdFactory
from daraja_simulator.ledger import Ledger
from daraja_simulator.oauth.repository import TokenStore
from daraja_simulator.requestlog import RequestLog
from daraja_simulator.stk.repository import CheckoutStore
from daraja_simulator.transactions.repository import PullRegistry

log = structlog.get_logger(__name__)


class SimulatorState:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = Clock(time_scale=settings.TIME_SCALE)
        self.ids = IdFactory(settings.SEED)
        self.tokens = TokenStore()
        self.checkouts = CheckoutStore()
        self.ledger = Ledger({s.shortcode: s.opening_balance for s in settings.SHORTCODES})
        self.callbacks = CallbackDispatcher(
            clock=self.clock,
            timeout_s=settings.CALLBACK_TIMEOUT_S,
            retries=settings.CALLBACK_RETRIES,
            retry_delay_s=settings.CALLBACK_RETRY_DELAY_S,
            on_change=self.notify,
        )
        self.faults = FaultBoard(
            spike_arrest_rps=settings.SPIKE_ARREST_RPS,
            quota_requests=settings.QUOTA_REQUESTS,
            quota_period_s=settings.QUOTA_PERIOD_S,
        )
        self.requests = RequestLog(settings.REQUEST_LOG_LIMIT)
        self.pulls = PullRegistry()
        self.c2b = C2BRegistry()
        self.behaviour_overrides: dict[str, Behaviour] = {}
        self.auto_respond = settings.AUTO_RESPOND
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Wake everyone waiting in :meth:`wait_until`."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], *, limit_s: float = 5.0) -> None:
        """Return once ``predicate()`` holds; TimeoutError after ``limit_s`` real seconds."""
        async with asyncio.timeout(limit_s):
            while True:
                changed = self._changed
                if predicate():
                    return
                await changed.wait()

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run ``work`` in the background; reset and shutdown cancel it."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background_task_failed", task=task.get_name(), exc_info=task.exception())
        self.notify()

    @property
    def busy(self) -> bool:
        """Background work (customers, reports, deliveries) is still running."""
        return bool(self._tasks)

    async def cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def reset(self) -> None:
        await self.cancel_tasks()
        self.clock.reset()
        # Identifiers carry on: M-Pesa never reissues a receipt, and a merchant's database that
        # outlives the reset would reject a repeated one.
        self.tokens.reset()
        self.checkouts.reset()
        self.ledger.reset()
        self.callbacks.reset()
        self.faults.reset()
        self.requests.reset()
        self.pulls.reset()
        self.c2b.reset()
        self.behaviour_overrides.clear()
        self.auto_respond = self.settings.AUTO_RESPOND
        self.notify()
