import asyncio
import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.testing import serve_app
from shared.testing.database import scratch_database
from shared.testing.processes import environment, free_port, port_open
from shared.testing.system import phone
from shared.testing.waiting import wait_for_change


class TestServeApp:
    async def test_serves_over_real_http_and_runs_the_lifespan(self) -> None:
        from contextlib import asynccontextmanager

        events: list[str] = []

        @asynccontextmanager
        async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
            events.append("start")
            yield
            events.append("stop")

        app = FastAPI(lifespan=lifespan)

        @app.get("/ping")
        async def ping() -> dict[str, str]:
            return {"pong": "yes"}

        async with serve_app(app) as url, httpx.AsyncClient() as client:
            assert url.startswith("http://127.0.0.1:")
            response = await client.get(f"{url}/ping")
            assert response.json() == {"pong": "yes"}
            assert events == ["start"]
        assert events == ["start", "stop"]


class TestHarness:
    def test_phones_never_repeat_and_end_in_the_behaviour(self) -> None:
        numbers = [phone("001") for _ in range(50)]

        assert len(set(numbers)) == 50
        assert all(re.fullmatch(r"07\d{5}001", n) for n in numbers)

    def test_environment_prefixes_settings_and_writes_lists_as_json(self) -> None:
        env = environment("GATEWAY_", PORT="8001", TIME_SCALE=0.01, API_KEYS=["a", "b"])

        assert env == {
            "GATEWAY_PORT": "8001",
            "GATEWAY_TIME_SCALE": "0.01",
            "GATEWAY_API_KEYS": '["a", "b"]',
        }

    def test_a_free_port_is_free(self) -> None:
        assert not port_open(free_port())

    async def test_wait_for_change_rechecks_when_told(self) -> None:
        changed = asyncio.Event()
        seen: list[int] = []

        async def check() -> list[int] | None:
            return seen or None

        async def later() -> None:
            await asyncio.sleep(0.05)
            seen.append(1)
            changed.set()

        task = asyncio.create_task(later())
        assert await wait_for_change(changed, check, within=5, what="the change") == [1]
        await task

    async def test_wait_for_change_fails_naming_what_it_waited_for(self) -> None:
        async def never() -> None:
            return None

        with pytest.raises(AssertionError, match="the impossible"):
            await wait_for_change(asyncio.Event(), never, within=0.05, what="the impossible")

    async def test_a_scratch_database_is_migrated_and_then_dropped(self, database_url: str) -> None:
        async with scratch_database(database_url, "_scratch_probe") as url:
            engine = create_async_engine(url)
            async with engine.connect() as connection:
                tables = await connection.scalar(
                    text("SELECT count(*) FROM pg_tables WHERE schemaname = 'gateway'")
                )
            await engine.dispose()
        assert tables

        engine = create_async_engine(database_url)
        async with engine.connect() as connection:
            left = await connection.scalar(
                text("SELECT count(*) FROM pg_database WHERE datname LIKE '%_scratch_probe'")
            )
        await engine.dispose()
        assert left == 0
