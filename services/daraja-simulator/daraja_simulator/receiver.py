"""A minimal merchant endpoint for callbacks: it records every POST and lets a caller await them.

Used by the simulator's tests and load benchmark (served over loopback with
``shared.testing.serve_app``), and handy in a demo. ``status_code`` sets what it answers, so a
test can make deliveries fail.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response


@dataclass(frozen=True)
class Received:
    path: str
    body: Any
    raw: bytes
    headers: dict[str, str]


class CallbackReceiver:
    def __init__(self, *, status_code: int = 200) -> None:
        self.status_code = status_code
        self.received: list[Received] = []
        self._changed = asyncio.Event()
        self.app = FastAPI()
        self.app.add_api_route(
            "/{path:path}", self._receive, methods=["POST"], include_in_schema=False
        )

    async def _receive(self, request: Request, path: str) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        self.received.append(
            Received(path=f"/{path}", body=body, raw=raw, headers=dict(request.headers))
        )
        self._changed.set()
        self._changed = asyncio.Event()
        if not 200 <= self.status_code < 300:
            return Response(status_code=self.status_code)
        return Response(
            content=json.dumps({"ResultCode": 0, "ResultDesc": "Accepted"}),
            media_type="application/json",
            status_code=self.status_code,
        )

    def under(self, prefix: str) -> list[Received]:
        """Bodies POSTed to paths starting with ``prefix``."""
        return [r for r in self.received if r.path.startswith(prefix)]

    async def wait_for(self, count: int, *, prefix: str = "/", limit_s: float = 5.0) -> None:
        """Return once ``count`` bodies have arrived under ``prefix``."""
        async with asyncio.timeout(limit_s):
            while True:
                changed = self._changed
                if len(self.under(prefix)) >= count:
                    return
                await changed.wait()
