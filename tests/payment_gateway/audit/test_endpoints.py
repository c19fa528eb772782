"""`/v1/audit` on the gateway: listed with filters and verified, behind the service key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.audit import service as audit
from payment_gateway.config import Settings
from payment_gateway.main import create_app
from shared.testing import open_asgi_client

KEY = "audit-test-service-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(API_KEYS=[KEY], AUDIT_CHECKPOINT_FILE=str(tmp_path / "checkpoints.jsonl"))


@pytest.fixture
async def api(settings: Settings, db_session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    async with open_asgi_client(create_app(settings), session=db_session) as client:
        yield client


async def test_entries_are_listed_newest_first_with_filters_and_pages(
    api: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    for n in range(3):
        await audit.record(db_session, action="test.listed", actor="tester", subject=f"payment:{n}")
    await audit.record(db_session, action="other.listed", actor="tester", subject="payment:0")

    first = (await api.get("/v1/audit?action=test.*&limit=2", headers=AUTH)).json()
    second = (
        await api.get(
            "/v1/audit",
            params={"action": "test.*", "limit": 2, "before": first["next_before"]},
            headers=AUTH,
        )
    ).json()
    by_subject = (await api.get("/v1/audit?subject=payment:0", headers=AUTH)).json()

    assert [e["subject"] for e in first["items"]] == ["payment:2", "payment:1"]
    assert [e["subject"] for e in second["items"]] == ["payment:0"]
    assert second["next_before"] is None
    assert {e["action"] for e in by_subject["items"]} == {"test.listed", "other.listed"}


async def test_verify_answers_the_report(
    api: httpx.AsyncClient, db_session: AsyncSession, settings: Settings
) -> None:
    await audit.record(db_session, action="test.verified", actor="tester")
    await audit.chain(db_session, settings=settings)

    response = await api.get("/v1/audit/verify", headers=AUTH)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["service"] == "payment_gateway"
    assert body["rows_checked"] >= 1 and body["first_broken"] is None


@pytest.mark.parametrize("path", ["/v1/audit", "/v1/audit/verify"])
async def test_the_trail_needs_the_service_key(api: httpx.AsyncClient, path: str) -> None:
    assert (await api.get(path)).status_code == 401
    assert (await api.get(path, headers={"Authorization": "Bearer wrong"})).status_code == 401
