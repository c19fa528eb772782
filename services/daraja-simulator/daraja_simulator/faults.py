"""Faults on the Daraja paths: outages, spike arrest, quota, "system busy", extra latency,
Transaction Status and Reversal results sent to QueueTimeOutURL, and Reversal results with a
chosen result code.

A fault lasts for its next ``count`` matching requests, for ``seconds`` of real time, or until
it is cleared. Fault durations and latency are real seconds, never scaled by ``TIME_SCALE``:
they exist to exercise a client's real timeouts and backoff. ``SIMULATOR_SPIKE_ARREST_RPS`` and
``SIMULATOR_QUOTA_REQUESTS`` are standing limits that apply without any fault.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from daraja_simulator.errors import DarajaError, QuotaViolation, SpikeArrest, SystemBusy


class FaultKind(StrEnum):
    outage = "outage"  # 503 with an HTML body, as a load balancer in front of Daraja sends
    spike_arrest = "spike_arrest"  # 500.003.02 Spike Arrest Violation (count, or rps limit)
    quota = "quota"  # 500.003.03 Quota Violation
    system_busy = "system_busy"  # 500.003.02 System is busy
    latency = "latency"  # answers `latency_s` later
    result_timeout = (
        "result_timeout"  # a Transaction Status or Reversal result goes to QueueTimeOutURL
    )
    # A Reversal result carries `result_code` (2001, R000002, ...) whatever the ledger says.
    result_code = "result_code"
    # Pull answers 1001 "No records found or Organization Name not available" whatever the
    # ledger holds: what Safaricom says for a shortcode not provisioned for Pull.
    pull_not_provisioned = "pull_not_provisioned"


OUTAGE_HTML = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class Fault:
    id: int
    kind: FaultKind
    created_at: datetime
    remaining: int | None = None
    deadline: float | None = None
    path: str | None = None
    latency_s: float | None = None
    rps: int | None = None
    result_code: str | None = None

    def applies_to(self, path: str) -> bool:
        return self.path is None or self.path == path

    def seconds_left(self, now: float) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - now)


@dataclass(frozen=True)
class Verdict:
    latency_s: float = 0.0
    outage: bool = False
    error: DarajaError | None = None


class _Window:
    """Admitted requests in the last ``period_s`` seconds of real time."""

    def __init__(self, period_s: float) -> None:
        self.period_s = period_s
        self._times: deque[float] = deque()

    def count(self, now: float) -> int:
        while self._times and self._times[0] <= now - self.period_s:
            self._times.popleft()
        return len(self._times)

    def add(self, now: float) -> None:
        self._times.append(now)

    def clear(self) -> None:
        self._times.clear()


class FaultBoard:
    def __init__(
        self,
        *,
        spike_arrest_rps: int | None,
        quota_requests: int | None,
        quota_period_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.monotonic = monotonic
        self._spike_arrest_rps = spike_arrest_rps
        self._quota_requests = quota_requests
        self._per_second = _Window(1.0)
        self._quota_window = _Window(quota_period_s)
        self.faults: list[Fault] = []
        self._next_id = 1

    def reset(self) -> None:
        self.faults.clear()
        self._per_second.clear()
        self._quota_window.clear()

    def add(
        self,
        kind: FaultKind,
        *,
        created_at: datetime,
        count: int | None = None,
        seconds: float | None = None,
        path: str | None = None,
        latency_s: float | None = None,
        rps: int | None = None,
        result_code: str | None = None,
    ) -> Fault:
        fault = Fault(
            id=self._next_id,
            kind=kind,
            created_at=created_at,
            remaining=count,
            deadline=self.monotonic() + seconds if seconds is not None else None,
            path=path,
            latency_s=latency_s,
            rps=rps,
            result_code=result_code,
        )
        self._next_id += 1
        self.faults.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        before = len(self.faults)
        self.faults = [f for f in self.faults if f.id != fault_id]
        return len(self.faults) != before

    def clear(self) -> None:
        self.faults.clear()

    def active(self) -> list[Fault]:
        now = self.monotonic()
        self.faults = [
            f
            for f in self.faults
            if (f.remaining is None or f.remaining > 0) and (f.deadline is None or f.deadline > now)
        ]
        return list(self.faults)

    def _take(self, kind: FaultKind, path: str) -> Fault | None:
        """The first live fault of ``kind`` for ``path``, one of its requests used up."""
        for fault in self.active():
            if fault.kind != kind or not fault.applies_to(path) or fault.rps is not None:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
            return fault
        return None

    def _rate_limit(self, path: str) -> int | None:
        limits = [
            f.rps
            for f in self.active()
            if f.kind == FaultKind.spike_arrest and f.rps is not None and f.applies_to(path)
        ]
        if self._spike_arrest_rps is not None:
            limits.append(self._spike_arrest_rps)
        return min(limits) if limits else None

    def check(self, path: str) -> Verdict:
        """Decide what happens to one request on a Daraja path."""
        latency = self._take(FaultKind.latency, path)
        latency_s = (latency.latency_s or 0.0) if latency is not None else 0.0
        if self._take(FaultKind.outage, path) is not None:
            return Verdict(latency_s=latency_s, outage=True)
        if self._take(FaultKind.system_busy, path) is not None:
            return Verdict(latency_s=latency_s, error=SystemBusy())
        if self._take(FaultKind.spike_arrest, path) is not None:
            return Verdict(latency_s=latency_s, error=SpikeArrest())
        if self._take(FaultKind.quota, path) is not None:
            return Verdict(latency_s=latency_s, error=QuotaViolation())
        now = self.monotonic()
        rps = self._rate_limit(path)
        if rps is not None and self._per_second.count(now) >= rps:
            return Verdict(latency_s=latency_s, error=SpikeArrest())
        if self._quota_requests is not None and self._quota_window.count(now) >= (
            self._quota_requests
        ):
            return Verdict(latency_s=latency_s, error=QuotaViolation())
        # The windows only grow while a limit watches them.
        if rps is not None:
            self._per_second.add(now)
        if self._quota_requests is not None:
            self._quota_window.add(now)
        return Verdict(latency_s=latency_s)

    def take_result_timeout(self, path: str) -> bool:
        return self._take(FaultKind.result_timeout, path) is not None

    def take_result_code(self, path: str) -> str | None:
        fault = self._take(FaultKind.result_code, path)
        return fault.result_code if fault is not None else None

    def take_pull_not_provisioned(self, path: str) -> bool:
        return self._take(FaultKind.pull_not_provisioned, path) is not None
