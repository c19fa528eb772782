"""Liveness, readiness and metrics endpoints, shared by every service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

ReadinessCheck = Callable[[], Awaitable[None]]


class Liveness(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    reason: str | None = None


def postgres_check(engine: AsyncEngine) -> ReadinessCheck:
    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return check


def redis_check(redis: Redis) -> ReadinessCheck:
    async def check() -> None:
        await redis.ping()

    return check


async def run_checks(
    checks: dict[str, ReadinessCheck], *, timeout_s: float
) -> tuple[bool, dict[str, str]]:
    async def one(check: ReadinessCheck) -> str:
        try:
            await asyncio.wait_for(check(), timeout=timeout_s)
        except TimeoutError:
            return f"unreachable: no answer within {timeout_s}s"
        except Exception as exc:
            return f"unreachable: {type(exc).__name__}: {exc}"[:300]
        return "ok"

    names = list(checks)
    results = await asyncio.gather(*(one(checks[name]) for name in names))
    outcome = dict(zip(names, results, strict=True))
    return all(r == "ok" for r in results), outcome


def health_router() -> APIRouter:
    """`/healthz`, `/readyz` and `/metrics`. Readiness checks come from ``app.state.readiness``."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=Liveness)
    async def healthz() -> dict[str, Any]:
        """The process is alive and serving requests."""
        return {"status": "ok"}

    @router.get(
        "/readyz",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "A dependency is unreachable."}},
    )
    async def readyz(request: Request) -> Response:
        """Every dependency (PostgreSQL, Redis) answers; 503 names the ones that do not."""
        checks: dict[str, ReadinessCheck] = getattr(request.app.state, "readiness", {})
        timeout_s: float = getattr(request.app.state, "readiness_timeout_s", 2.0)
        ready, outcome = await run_checks(checks, timeout_s=timeout_s)
        if ready:
            return JSONResponse({"status": "ready", "checks": outcome})
        down = [name for name, result in outcome.items() if result != "ok"]
        return JSONResponse(
            status_code=503,
            content={
                "status": "unavailable",
                "checks": outcome,
                "reason": "; ".join(f"{name} {outcome[name]}" for name in down),
            },
        )

    @router.get("/metrics", response_class=Response, include_in_schema=True)
    async def metrics() -> Response:
        """Prometheus metrics in the text exposition format."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
