import httpx
from fastapi import FastAPI

from shared.testing import serve_app


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
