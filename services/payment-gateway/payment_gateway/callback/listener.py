"""The worker side of the hand-over: hear the announcements of stored callbacks and queue their
processing at once.

A notification can be missed (no worker listening, a dropped connection); the inbox row stays
unprocessed, so on every (re)connection the listener queues whatever is still waiting, and the
periodic sweep does too.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import structlog
from arq.connections import ArqRedis

from payment_gateway.callback import service
from payment_gateway.callback.repository import CallbackInboxRepository
from shared import background

log = structlog.get_logger(__name__)


class CallbackListener:
    def __init__(
        self,
        *,
        dsn: str,
        channel: str,
        namespace: str,
        arq: ArqRedis,
        reconnect_delay_s: float = 1.0,
    ) -> None:
        self._dsn = dsn
        self._channel = channel
        self._namespace = namespace
        self._arq = arq
        self._reconnect_delay_s = reconnect_delay_s
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        self.connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="callback-listener")

    async def stop(self) -> None:
        if self._task is not None:
            await background.stop_task(self._task)
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # PostgreSQL restarts must not end the worker
                log.warning("callback_listener_disconnected", error=str(e))
            self.connected.clear()
            background.raise_if_cancelled()
            await asyncio.sleep(self._reconnect_delay_s)

    async def _listen_once(self) -> None:
        connection = await asyncpg.connect(self._dsn)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        try:
            await connection.add_listener(self._channel, self._heard)
            self.connected.set()
            # Whatever was announced while nobody listened.
            for inbox_id in await CallbackInboxRepository.waiting(connection):
                self._queue(inbox_id)
            await lost.wait()
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    def _heard(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self._queue(int(payload))

    def _queue(self, inbox_id: int) -> None:
        task = asyncio.create_task(self._enqueue(inbox_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _enqueue(self, inbox_id: int) -> None:
        try:
            await self._arq.enqueue_job(
                service.PROCESS_TASK,
                inbox_id,
                **service.process_job(inbox_id, namespace=self._namespace),
            )
        except Exception as e:  # the sweep queues it later
            log.warning("callback_queue_failed", inbox_id=inbox_id, error=str(e))
