"""Outbound POSTs to merchants' CallBackURL / ResultURL / QueueTimeOutURL, every attempt logged.

Safaricom says it does not retry a failed delivery, so by default neither do we;
``SIMULATOR_CALLBACK_RETRIES`` adds retries for those who want them. Nothing signs the body:
Daraja sends no signature and no auth header.

Each attempt opens its own connection. Besides being what a merchant sees from Daraja, it keeps
a burst of callbacks from queueing on one shared connection pool, whose bookkeeping grows with
the square of the connections in flight (measured: 200 concurrent callbacks through one pool
took longer than the 200 pushes that caused them).
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog

from daraja_simulator.clock import Clock

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DeliveryAttempt:
    id: int
    kind: str
    reference: str
    url: str
    delivery: int
    attempt: int
    started_at: datetime
    duration_ms: float
    status_code: int | None
    error: str | None
    body: Any

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class CallbackDispatcher:
    def __init__(
        self,
        *,
        clock: Clock,
        timeout_s: float,
        retries: int,
        retry_delay_s: float,
        on_change: Callable[[], None],
    ) -> None:
        self._timeout = httpx.Timeout(timeout_s)
        # Loading the CA bundle takes ~50 ms: once, not per attempt.
        self._tls = ssl.create_default_context()
        self._clock = clock
        self._retries = retries
        self._retry_delay_s = retry_delay_s
        self._on_change = on_change
        self.attempts: list[DeliveryAttempt] = []

    def reset(self) -> None:
        self.attempts.clear()

    async def deliver(
        self, *, kind: str, reference: str, url: str, content: str, delivery: int = 1
    ) -> bool:
        """POST ``content`` (a JSON document) to ``url``; True once an attempt gets a 2xx."""
        for attempt in range(1, self._retries + 2):
            started_at = self._clock.now()
            start = time.perf_counter()
            status_code: int | None = None
            error: str | None = None
            try:
                async with httpx.AsyncClient(
                    timeout=self._timeout, verify=self._tls, trust_env=False
                ) as client:
                    response = await client.post(
                        url, content=content, headers={"Content-Type": "application/json"}
                    )
                status_code = response.status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            record = DeliveryAttempt(
                id=len(self.attempts) + 1,
                kind=kind,
                reference=reference,
                url=url,
                delivery=delivery,
                attempt=attempt,
                started_at=started_at,
                duration_ms=round((time.perf_counter() - start) * 1000, 2),
                status_code=status_code,
                error=error,
                body=json.loads(content),
            )
            self.attempts.append(record)
            # Callback URLs often carry a per-payment secret in the path: log the host only.
            log.info(
                "callback_attempt",
                kind=kind,
                reference=reference,
                host=urlsplit(url).netloc,
                delivery=delivery,
                attempt=attempt,
                status_code=status_code,
                error=error,
                duration_ms=record.duration_ms,
            )
            self._on_change()
            if record.delivered:
                return True
            if attempt <= self._retries:
                await self._clock.sleep(self._retry_delay_s)
        return False

    def for_reference(self, reference: str) -> list[DeliveryAttempt]:
        return [a for a in self.attempts if a.reference == reference]
