"""Services as OS processes on loopback: free ports, a uvicorn or ``python -m`` child that is
always stopped, and waiting for a served URL to answer. For the end-to-end tests (the Procfile's
processes) and the benchmarks (processes as deployed)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from shared.testing.waiting import wait_until

HOST = "127.0.0.1"
STOP_TIMEOUT_S = 10.0


# Ports handed out for servers a test starts later (by another process, seconds from now). They
# come from below the kernel's ephemeral range (32768-60999), which outgoing connections draw
# their source ports from, and each xdist worker has a block of its own: a port picked by binding
# to port 0 could be taken in the meantime by a connection's source port or handed to another
# worker too.
_PORT_BASE = 20000
_PORT_BLOCK = 1000
_next_port = itertools.count(random.randrange(_PORT_BLOCK))  # noqa: S311 (not a secret)


def free_port() -> int:
    """A loopback port nobody listens on right now, from this process's own block."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw9").removeprefix("gw")
    block = _PORT_BASE + (int(worker) % 10 if worker.isdigit() else 9) * _PORT_BLOCK
    for _ in range(_PORT_BLOCK):
        port = block + next(_next_port) % _PORT_BLOCK
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {block}-{block + _PORT_BLOCK - 1}")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def url_of(port: int) -> str:
    return f"http://{HOST}:{port}"


def environment(prefix: str, **settings: object) -> dict[str, str]:
    """Environment variables setting a service's settings (``environment("GATEWAY_",
    TIME_SCALE=0.01)``); lists and objects as JSON, as the settings read them."""
    return {
        f"{prefix}{name}": value if isinstance(value, str) else json.dumps(value)
        for name, value in settings.items()
    }


def stop(process: subprocess.Popen[bytes], *, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM, then SIGKILL if it has not ended within ``timeout_s``."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def python_process(
    args: Sequence[str], env: dict[str, str], *, cwd: Path | None = None, quiet: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """``python <args>`` with ``env`` added to ours, stopped on exit. ``quiet`` drops its output."""
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=output,
        stderr=output,
    )
    try:
        yield process
    finally:
        stop(process)


@contextlib.contextmanager
def uvicorn_process(
    target: str,
    env: dict[str, str],
    *,
    port: int | None = None,
    factory: bool = True,
    cwd: Path | None = None,
    ready_path: str = "/healthz",
    within_s: float = 30.0,
) -> Iterator[str]:
    """``uvicorn <target>`` in a child process on a free port (uvloop and httptools, as
    deployed); yields its base URL once ``ready_path`` answers 200."""
    port = port or free_port()
    args = ["-m", "uvicorn", target, "--host", HOST, "--port", str(port)]
    args += ["--log-level", "warning", "--no-access-log", "--no-proxy-headers"]
    if factory:
        args.append("--factory")
    url = url_of(port)
    with python_process(args, env, cwd=cwd) as process:
        deadline = time.monotonic() + within_s
        while not _answers(f"{url}{ready_path}"):
            if process.poll() is not None:
                raise RuntimeError(f"{target} exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{target} did not start within {within_s}s")
            time.sleep(0.1)
        yield url


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


async def wait_ready(
    client: httpx.AsyncClient,
    url: str,
    processes: Sequence[asyncio.subprocess.Process] = (),
    *,
    within: float = 60.0,
) -> None:
    """Wait until ``url`` answers 200; fails at once if one of ``processes`` has exited."""

    async def ready() -> bool:
        if any(p.returncode is not None for p in processes):
            raise RuntimeError(f"a process exited while waiting for {url}")
        try:
            return (await client.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_until(ready, within=within, what=url, interval_s=0.1)
