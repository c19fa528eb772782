"""ASGI middleware every service runs: request id, access log and Prometheus request metrics."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
# How long an outbound client keeps an idle connection for reuse. Servers close idle keep-alive
# connections after a few seconds (uvicorn after 5); a client that keeps them as long can send a
# request down a connection the server is closing at that moment and get a ReadError for a request
# the server never saw. Staying well below makes that race go away for every outbound client.
KEEPALIVE_EXPIRY_S = 2.0
_REQUEST_ID_HEADER_RAW = REQUEST_ID_HEADER.encode("latin-1")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by method, route and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by method and route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

log = structlog.get_logger("http")


class RequestContextMiddleware:
    """Takes ``X-Request-ID`` from the request (or makes one), binds it to every log line of the
    request, echoes it on the response, and records the request count and latency by route
    template (never the raw path, so ids do not explode the label set)."""

    def __init__(self, app: ASGIApp, *, quiet_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.quiet_paths = quiet_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == _REQUEST_ID_HEADER_RAW:
                candidate = value.decode("latin-1")
                if _VALID_REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        if not request_id:
            request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (_REQUEST_ID_HEADER_RAW, request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            HTTP_REQUESTS.labels(method, template, str(status)).inc()
            HTTP_LATENCY.labels(method, template).observe(elapsed)
            if scope["path"] not in self.quiet_paths:
                # The raw path may carry a callback's capability token or a phone number:
                # shared.logging redacts them in every line, this one included.
                log.info(
                    "request",
                    method=method,
                    path=scope["path"],
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
