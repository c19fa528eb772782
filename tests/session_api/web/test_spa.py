"""session-api serves the built web app at `/`, falls back to its index.html for the app's own
routes, and keeps every API path's answers (JSON 404, 405) as they were."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.config import Settings
from session_api.main import create_app
from session_api.models import PlatformSetting
from shared.settings import Environment
from shared.testing import open_asgi_client
from tests.session_api.fixtures import FakeGateway

INDEX = "<!doctype html><title>the app</title><div id=root></div>"
SCRIPT = "console.log('app')"


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text(SCRIPT)
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


@contextlib.asynccontextmanager
async def client_for(settings: Settings, web_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(
        settings.model_copy(update={"WEB_DIR": web_dir}), gateway=FakeGateway().client()
    )
    async with open_asgi_client(app) as client:
        yield client


@pytest.fixture
async def web(settings: Settings, web_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings, web_dir) as client:
        yield client


async def test_the_root_is_the_apps_index(web: httpx.AsyncClient) -> None:
    response = await web.get("/")

    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/signin", "/bookings", "/therapists/8a1e/book"])
async def test_the_apps_routes_fall_back_to_its_index(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)

    assert response.status_code == 200
    assert response.text == INDEX


async def test_built_files_are_served_and_hashed_ones_cached_for_good(
    web: httpx.AsyncClient,
) -> None:
    script = await web.get("/assets/index-abc123.js")
    icon = await web.get("/favicon.svg")

    assert script.status_code == 200
    assert script.text == SCRIPT
    assert "immutable" in script.headers["cache-control"]
    assert icon.status_code == 200
    assert icon.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/assets/missing.js", "/../config.py", "/%2e%2e/secret.txt"])
async def test_a_missing_file_is_a_json_404_not_the_app(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)

    assert response.status_code == 404
    assert response.json()["error"] == "NotFound"


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v1", "/internal/nothing", "/docs/x"])
async def test_unknown_api_paths_stay_json_404s(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "NotFound"


async def test_api_routes_keep_their_answers(web: httpx.AsyncClient) -> None:
    assert (await web.get("/healthz")).status_code == 200
    assert (await web.get("/openapi.json")).json()["info"]["title"] == "session-api"
    # A route that exists for another method still says so.
    wrong_method = await web.get("/v1/auth/login")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "MethodNotAllowed"
    # Other methods on the app's paths are not the app.
    assert (await web.post("/signin")).status_code == 404


async def test_without_a_build_the_root_says_how_to_build(
    settings: Settings, tmp_path: Path
) -> None:
    async with client_for(settings, tmp_path / "nothing-built") as client:
        response = await client.get("/")

        assert response.status_code == 404
        assert "make run" in response.json()["detail"]


async def test_config_tells_the_app_about_this_deployment(web: httpx.AsyncClient) -> None:
    response = await web.get("/v1/config")

    assert response.status_code == 200
    body = response.json()
    # Nothing switched yet: payments are made in the sandbox.
    assert body["environment"] == "sandbox"
    assert body["deployment"] == "testing"
    assert body["test_mode"] is True
    assert body["business_name"] == "Tiba Therapy"
    assert body["paybill_number"] == "174379"
    assert body["prompt_window_s"] == 60
    assert body["currency"] == "KES"
    assert body["delivery_fee_kes"] == 300
    assert body["free_delivery_from_kes"] is None


@pytest.mark.parametrize(
    ("deployment", "payments_in", "test_mode"),
    [
        (Environment.production, "production", False),
        (Environment.production, "sandbox", True),
        (Environment.sandbox, "production", True),
    ],
)
async def test_only_production_payments_in_a_production_deployment_are_live(
    settings: Settings,
    web_dir: Path,
    db_session: AsyncSession,
    deployment: Environment,
    payments_in: str,
    test_mode: bool,
) -> None:
    db_session.add(
        PlatformSetting(
            id=1, payment_environment=payments_in, paybill_number="600100", updated_by="admin:1"
        )
    )
    await db_session.flush()
    app = create_app(
        settings.model_copy(update={"ENVIRONMENT": deployment, "WEB_DIR": web_dir}),
        gateway=FakeGateway().client(),
    )
    async with open_asgi_client(app, session=db_session) as client:
        body = (await client.get("/v1/config")).json()

    assert body["environment"] == payments_in
    assert body["test_mode"] is test_mode
    # The shortcode of the active environment, as the gateway reported it at the switch.
    assert body["paybill_number"] == "600100"
