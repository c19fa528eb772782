"""Serve an ASGI app over real loopback HTTP inside the current event loop (tests, benchmarks),
and the TLS options every service's server takes from its settings."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI


class _InProcessServer(uvicorn.Server):
    """A server that lives inside someone else's process (a test run, a benchmark) leaves that
    process's signals alone: uvicorn's own capture would turn Ctrl-C into "stop this server"
    and hold it back from the runner until the server ends."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def tls_options(cert_file: Path | None, key_file: Path | None) -> dict[str, Any]:
    """uvicorn's keyword arguments to serve HTTPS itself (``<PREFIX>TLS_CERT_FILE`` and
    ``<PREFIX>TLS_KEY_FILE``), or none to serve plain HTTP behind a TLS-terminating proxy."""
    if cert_file is None or key_file is None:
        return {}
    return {"ssl_certfile": str(cert_file), "ssl_keyfile": str(key_file)}


@asynccontextmanager
async def serve_app(
    app: FastAPI,
    *,
    host: str = "127.0.0.1",
    cert_file: Path | None = None,
    key_file: Path | None = None,
) -> AsyncIterator[str]:
    """Serve ``app`` over real HTTP on a free loopback port inside this event loop, lifespan
    included, and yield its base URL. For tests that need a peer to call back (Daraja
    callbacks, webhooks) or a service another process talks to. With ``cert_file`` and
    ``key_file`` it serves HTTPS (the URL says so)."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose protocol says TCP;
    # without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    tls = tls_options(cert_file, key_file)
    config = uvicorn.Config(app, log_config=None, lifespan="on", access_log=False, **tls)
    server = _InProcessServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.01)
        yield f"{'https' if tls else 'http'}://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
