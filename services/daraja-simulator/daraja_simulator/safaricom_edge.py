"""The simulator's stand-in for Safaricom's API gateway: every request on a Daraja path is logged
and passes the fault board before any Daraja endpoint sees it (real spike arrest and outages
happen in front of the APIs too)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from daraja_simulator.errors import error_response, is_daraja_path
from daraja_simulator.faults import OUTAGE_HTML

if TYPE_CHECKING:
    from daraja_simulator.state import SimulatorState


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw[:2000].decode("utf-8", errors="replace")


class SafaricomEdgeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_daraja_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        state: SimulatorState = scope["app"].state.simulator

        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        raw = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")

        auth_scheme: str | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                auth_scheme = value.decode("latin-1").split(" ", 1)[0] or None
                break
        record = state.requests.add(
            at=state.clock.now(),
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            auth_scheme=auth_scheme,
            body=_decode(raw),
        )

        verdict = state.faults.check(scope["path"])
        if verdict.latency_s:
            await asyncio.sleep(verdict.latency_s)
        if verdict.outage:
            record.status, record.fault = 503, "outage"
            state.notify()
            await _send_outage(send)
            return
        if verdict.error is not None:
            response = error_response(verdict.error, state.ids.request_id())
            record.status, record.fault = response.status_code, verdict.error.error_code
            state.notify()
            await response(scope, receive, send)
            return

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        async def send_and_record(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                state.notify()
            await send(message)

        await self.app(scope, replay, send_and_record)


async def _send_outage(send: Send) -> None:
    body = OUTAGE_HTML.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/html"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
