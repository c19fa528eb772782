"""The load generator the benchmarks share: a lean HTTP/1.1 keep-alive client (so the load
generator is not what gets measured), a concurrent load of prepared requests, and rounds in
turns for comparing targets on a shared machine."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

CONCURRENCY = 32
# (path, body, headers) of one POST.
Requests = list[tuple[str, bytes, dict[str, str]]]


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(
        self, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = (
            f"POST {path} HTTP/1.1\r\nhost: {self.host}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n{extra}\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    failures: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

    def line(self) -> str:
        return (
            f"{self.name:<24} {self.rps:8.0f} req/s   p50 {self.percentile(0.50):6.2f} ms   "
            f"p99 {self.percentile(0.99):6.2f} ms   ({len(self.latencies_ms)} requests, "
            f"{self.failures} failed)"
        )


async def load(
    name: str,
    base_url: str,
    requests: list[tuple[str, bytes, dict[str, str]]],
    *,
    concurrency: int = CONCURRENCY,
    accept: Callable[[int], bool] = lambda status: status == 200,
) -> Result:
    parts = urlsplit(base_url)
    queue = iter(requests)
    latencies: list[float] = []
    failures = 0

    async def client() -> None:
        nonlocal failures
        connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        try:
            for path, body, headers in queue:
                started = time.perf_counter()
                status, _ = await connection.post(path, body, headers)
                latencies.append((time.perf_counter() - started) * 1000)
                if not accept(status):
                    failures += 1
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Result(name, len(requests), time.perf_counter() - started, latencies, failures)


async def measure_in_turns(
    targets: list[tuple[str, str, Requests]], *, warmup: int, rounds: int, per_round: int
) -> list[Result]:
    """Warm every target up, then let them take turns, round after round; each gets its median
    round (by throughput) with the latencies of all its rounds. The machine is shared: a burst
    of someone else's load then does not decide a ratio."""
    for name, url, requests in targets:
        await load(name, url, requests[:warmup])
    taken: dict[str, list[Result]] = {name: [] for name, _, _ in targets}
    for index in range(rounds):
        for name, url, requests in targets:
            first = warmup + index * per_round
            taken[name].append(await load(name, url, requests[first : first + per_round]))
    return [_median_round(name, taken[name]) for name, _, _ in targets]


def _median_round(name: str, rounds: list[Result]) -> Result:
    median = sorted(rounds, key=lambda r: r.rps)[len(rounds) // 2]
    return Result(
        name,
        median.requests,
        median.seconds,
        [ms for r in rounds for ms in r.latencies_ms],
        sum(r.failures for r in rounds),
    )


async def wait_for_count(
    connection: asyncpg.Connection, sql: str, *args: Any, target: int, within_s: float = 600
) -> int:
    deadline = time.perf_counter() + within_s
    count = 0
    while time.perf_counter() < deadline:
        count = await connection.fetchval(sql, *args)
        if count >= target:
            break
        await asyncio.sleep(0.2)
    return int(count)
