"""Operations endpoints of every service app: liveness, readiness against real PostgreSQL and
Redis (and with each one unreachable), metrics, request ids."""

import socket
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

import daraja_simulator.config
import daraja_simulator.main
import payment_gateway.config
import payment_gateway.main
import session_api.config
import session_api.main
from shared.testing import AsgiClientFactory

DB_SERVICES: dict[str, tuple[Callable[..., FastAPI], type[Any]]] = {
    "payment_gateway": (payment_gateway.main.create_app, payment_gateway.config.Settings),
    "session_api": (session_api.main.create_app, session_api.config.Settings),
}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Service = tuple[Callable[..., FastAPI], type[Any]]


@pytest.fixture(params=sorted(DB_SERVICES))
def service(request: pytest.FixtureRequest) -> Service:
    return DB_SERVICES[request.param]


class TestOperationsEndpoints:
    async def test_healthz_readyz_and_metrics_answer(
        self, service: Service, asgi_client: AsgiClientFactory
    ) -> None:
        create_app, settings_cls = service
        async with asgi_client(create_app(settings_cls())) as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            ready = await client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"status": "ready", "checks": {"postgres": "ok", "redis": "ok"}}
            metrics = await client.get("/metrics")
            assert metrics.status_code == 200
            assert metrics.headers["content-type"].startswith("text/plain")
            assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in metrics.text

    async def test_readyz_is_503_naming_postgres_when_it_is_unreachable(
        self, service: Service, asgi_client: AsgiClientFactory
    ) -> None:
        create_app, settings_cls = service
        port = closed_port()
        settings = settings_cls(DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x")
        async with asgi_client(create_app(settings)) as client:
            response = await client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["redis"] == "ok"
        assert body["checks"]["postgres"].startswith("unreachable")
        assert body["reason"].startswith("postgres unreachable")

    async def test_readyz_is_503_naming_redis_when_it_is_unreachable(
        self, service: Service, asgi_client: AsgiClientFactory
    ) -> None:
        create_app, settings_cls = service
        settings = settings_cls(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
        async with asgi_client(create_app(settings)) as client:
            response = await client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["checks"] == {"postgres": "ok", "redis": body["checks"]["redis"]}
        assert body["checks"]["redis"].startswith("unreachable")
        assert body["reason"].startswith("redis unreachable")

    async def test_request_id_is_taken_from_the_request_or_made(
        self, service: Service, asgi_client: AsgiClientFactory
    ) -> None:
        create_app, settings_cls = service
        async with asgi_client(create_app(settings_cls())) as client:
            given = await client.get("/healthz", headers={"X-Request-ID": "req-abc.123"})
            made = await client.get("/healthz")
            hostile = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
        assert given.headers["x-request-id"] == "req-abc.123"
        assert len(made.headers["x-request-id"]) == 32
        assert hostile.headers["x-request-id"] != "bad id\twith spaces"

    async def test_openapi_is_served(
        self, service: Service, asgi_client: AsgiClientFactory
    ) -> None:
        create_app, settings_cls = service
        async with asgi_client(create_app(settings_cls())) as client:
            schema = (await client.get("/openapi.json")).json()
            docs = await client.get("/docs")
        assert "/readyz" in schema["paths"]
        assert docs.status_code == 200


class TestSimulatorOperations:
    async def test_simulator_is_ready_without_database_or_redis(
        self, asgi_client: AsgiClientFactory
    ) -> None:
        app = daraja_simulator.main.create_app(daraja_simulator.config.Settings())
        async with asgi_client(app) as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {}
