"""HSTS and the strict Content-Security-Policy: on every answer in production (JSON, errors, the
app's files, the docs with their own policy), off by default elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from session_api.config import Settings
from session_api.web.security import DOCS_CSP, STRICT_CSP
from shared.settings import Environment
from tests.session_api.web.test_spa import INDEX, client_for


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text(INDEX)
    return tmp_path


@pytest.mark.parametrize("path", ["/v1/config", "/", "/signin", "/v1/nowhere", "/healthz"])
async def test_production_answers_carry_hsts_and_the_strict_policy(
    settings: Settings, web_dir: Path, path: str
) -> None:
    production = settings.model_copy(update={"SECURITY_HEADERS": True})
    async with client_for(production, web_dir) as client:
        response = await client.get(path)

    assert response.headers["strict-transport-security"] == ("max-age=63072000; includeSubDomains")
    assert response.headers["content-security-policy"] == STRICT_CSP
    assert "'unsafe-inline'" not in STRICT_CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


async def test_the_docs_get_their_own_policy(settings: Settings, web_dir: Path) -> None:
    production = settings.model_copy(update={"SECURITY_HEADERS": True})
    async with client_for(production, web_dir) as client:
        response = await client.get("/docs")

    assert response.headers["content-security-policy"] == DOCS_CSP


def test_on_by_default_only_in_production(settings: Settings) -> None:
    production = settings.model_copy(update={"ENVIRONMENT": Environment.production})

    assert production.security_headers is True
    assert settings.security_headers is False
    assert settings.model_copy(update={"SECURITY_HEADERS": True}).security_headers is True


async def test_off_outside_production(settings: Settings, web_dir: Path) -> None:
    async with client_for(settings, web_dir) as client:
        response = await client.get("/v1/config")

    assert "strict-transport-security" not in response.headers
    assert "content-security-policy" not in response.headers
