"""Acceptance 3 of issue 13 for the gateway: per service key on the service routes, per address
on Daraja's callback route; 429 with Retry-After, shared by two API processes (two apps on one
Redis)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from payment_gateway.config import Settings
from payment_gateway.main import create_app
from shared.testing import open_asgi_client
from shared.testing.system import GATEWAY_DEFAULTS


def settings_for(database_url: str, redis_url: str, **overrides: Any) -> Settings:
    return Settings(
        **{
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            **GATEWAY_DEFAULTS,
            "NAMESPACE": f"rl_{uuid.uuid4().hex[:8]}",
            **overrides,
        }
    )


@contextlib.asynccontextmanager
async def two_processes(
    settings: Settings,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with (
        open_asgi_client(create_app(settings)) as one,
        open_asgi_client(create_app(settings)) as other,
    ):
        yield one, other


def assert_too_many(response: httpx.Response, counts: str) -> None:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json()["error"] == "TooManyRequests"
    assert response.json()["detail"].startswith(
        f"too many {counts}; try again in {retry_after} seconds"
    )


async def test_service_key_calls_are_limited_across_processes(
    database_url: str, redis_url: str
) -> None:
    key, other_key = f"key-{uuid.uuid4().hex}", f"key-{uuid.uuid4().hex}"
    settings = settings_for(
        database_url, redis_url, API_KEYS=[key, other_key], SERVICE_KEY_RATE_LIMIT="3/minute"
    )
    auth = {"Authorization": f"Bearer {key}"}
    async with two_processes(settings) as (one, other):
        for client in (one, other, one):
            assert (await client.get("/v1/payments", headers=auth)).status_code == 200

        assert_too_many(
            await other.get("/v1/payments", headers=auth), "requests with this service key"
        )
        # Each key has its own allowance.
        second = {"Authorization": f"Bearer {other_key}"}
        assert (await one.get("/v1/payments", headers=second)).status_code == 200


async def test_a_wrong_key_is_refused_before_it_is_counted(
    database_url: str, redis_url: str
) -> None:
    key = f"key-{uuid.uuid4().hex}"
    settings = settings_for(
        database_url, redis_url, API_KEYS=[key], SERVICE_KEY_RATE_LIMIT="1/minute"
    )
    async with two_processes(settings) as (one, _):
        for _ in range(3):
            wrong = await one.get("/v1/payments", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401

        assert (
            await one.get("/v1/payments", headers={"Authorization": f"Bearer {key}"})
        ).status_code == 200


async def test_callbacks_are_limited_per_address_across_processes(
    database_url: str, redis_url: str
) -> None:
    settings = settings_for(
        database_url, redis_url, TRUSTED_PROXY_HOPS=1, CALLBACK_RATE_LIMIT_PER_IP="2/minute"
    )
    flood = {"X-Forwarded-For": "198.51.100.7"}
    async with two_processes(settings) as (one, other):
        for client in (one, other):
            unknown = await client.post("/v1/callbacks/stk/not-a-token", json={}, headers=flood)
            assert unknown.status_code == 404

        assert_too_many(
            await one.post("/v1/callbacks/stk/not-a-token", json={}, headers=flood),
            "callbacks from this address",
        )
        safaricom = {"X-Forwarded-For": "196.201.214.200"}
        elsewhere = await other.post("/v1/callbacks/stk/not-a-token", json={}, headers=safaricom)
        assert elsewhere.status_code == 404
