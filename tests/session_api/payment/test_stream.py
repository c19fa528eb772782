"""The SSE stream over real HTTP (uvicorn on loopback): ASGI transports buffer whole responses."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from session_api.config import Settings
from session_api.main import create_app
from session_api.models import UserRole
from shared.testing import serve_app
from tests.session_api.fixtures import (
    PHONE,
    Account,
    FakeGateway,
    approved_booking,
    deliver,
    make_account,
)


async def events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Each SSE event's fields, with `data` decoded from JSON; keep-alive comments skipped."""
    event: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if not line:
            if event:
                yield event
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            event[name] = json.loads(value) if name == "data" else value


async def people(app: FastAPI, settings: Settings) -> tuple[Account, Account]:
    async with app.state.sessionmaker() as session, session.begin():
        client = await make_account(session, settings)
        therapist = await make_account(session, settings, role=UserRole.therapist)
    return client, therapist


class TestStream:
    async def test_delivers_processing_then_paid_then_closes(
        self, app: FastAPI, settings: Settings, gateway: FakeGateway, clean_database: None
    ) -> None:
        async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
            client, therapist = await people(app, settings)
            booking = await approved_booking(http, client, therapist)
            attempt = (
                await http.post(
                    f"/v1/bookings/{booking['id']}/pay",
                    json={"phone": PHONE},
                    headers=client.headers,
                )
            ).json()
            seen: list[dict[str, Any]] = []
            async with http.stream(
                "GET", f"/v1/payments/{attempt['id']}/stream", headers=client.headers
            ) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                async for event in events(response):
                    seen.append(event)
                    if len(seen) == 1:
                        # Subscribed (the current state came after the subscription): now pay.
                        await deliver(
                            http, gateway.paid(gateway.last_payment()["id"], "SGH7STRM01")
                        )

        assert [e["event"] for e in seen] == ["status", "status"]
        assert [e["data"]["status"] for e in seen] == ["processing", "paid"]
        assert seen[1]["data"]["receipt_number"] == "SGH7STRM01"
        assert [e["id"] for e in seen] == ["1", "2"]

    async def test_a_late_subscriber_gets_the_final_state_and_the_stream_ends(
        self, app: FastAPI, settings: Settings, gateway: FakeGateway, clean_database: None
    ) -> None:
        async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
            client, therapist = await people(app, settings)
            booking = await approved_booking(http, client, therapist)
            attempt = (
                await http.post(
                    f"/v1/bookings/{booking['id']}/pay",
                    json={"phone": PHONE},
                    headers=client.headers,
                )
            ).json()
            await deliver(http, gateway.cancelled(gateway.last_payment()["id"]))
            # EventSource cannot send headers: the token may come as a query parameter.
            async with http.stream(
                "GET",
                f"/v1/payments/{attempt['id']}/stream",
                params={"access_token": client.token},
            ) as response:
                seen = [event async for event in events(response)]

        assert [e["data"]["status"] for e in seen] == ["cancelled"]
        assert seen[0]["data"]["reason"] == "customer_cancelled"

    async def test_works_across_api_processes_through_redis(
        self, settings: Settings, gateway: FakeGateway, clean_database: None
    ) -> None:
        streaming_app = create_app(settings, gateway=gateway.client())
        receiving_app = create_app(settings, gateway=gateway.client())
        async with (
            serve_app(streaming_app) as stream_url,
            serve_app(receiving_app) as receive_url,
            httpx.AsyncClient(base_url=stream_url, timeout=10) as streaming,
            httpx.AsyncClient(base_url=receive_url, timeout=10) as receiving,
        ):
            client, therapist = await people(streaming_app, settings)
            booking = await approved_booking(streaming, client, therapist)
            attempt = (
                await streaming.post(
                    f"/v1/bookings/{booking['id']}/pay",
                    json={"phone": PHONE},
                    headers=client.headers,
                )
            ).json()
            statuses = []
            async with streaming.stream(
                "GET", f"/v1/payments/{attempt['id']}/stream", headers=client.headers
            ) as response:
                async for event in events(response):
                    statuses.append(event["data"]["status"])
                    if len(statuses) == 1:
                        await deliver(receiving, gateway.paid(gateway.last_payment()["id"]))

        assert statuses == ["processing", "paid"]

    async def test_someone_elses_stream_is_not_found(
        self, app: FastAPI, settings: Settings, clean_database: None
    ) -> None:
        async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
            client, therapist = await people(app, settings)
            stranger, _ = await people(app, settings)
            booking = await approved_booking(http, client, therapist)
            attempt = (
                await http.post(
                    f"/v1/bookings/{booking['id']}/pay",
                    json={"phone": PHONE},
                    headers=client.headers,
                )
            ).json()

            response = await http.get(
                f"/v1/payments/{attempt['id']}/stream", headers=stranger.headers
            )
            anonymous = await http.get(f"/v1/payments/{attempt['id']}/stream")

        assert response.status_code == 404
        assert anonymous.status_code == 401
