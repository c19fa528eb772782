import json
from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.main import create_app
from shared.db import SessionDep
from shared.testing import AsgiClientFactory


def app_with_routes() -> FastAPI:
    app = create_app(Settings())

    @app.post("/commit-fails")
    async def commit_fails(session: SessionDep) -> dict[str, str]:
        # A deferred unique constraint fails only at COMMIT.
        await session.execute(
            text(
                "CREATE TEMP TABLE deferred_probe (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)"
                " ON COMMIT DROP"
            )
        )
        await session.execute(text("INSERT INTO deferred_probe VALUES (1), (1)"))
        return {"status": "written"}

    @app.post("/raises")
    async def raises(session: SessionDep) -> None:
        await session.execute(text("CREATE TEMP TABLE IF NOT EXISTS probe (id int)"))
        await session.execute(text("INSERT INTO probe VALUES (7)"))
        raise RuntimeError("after a write")

    @app.post("/duplicate-account")
    async def duplicate_account(session: SessionDep) -> None:
        await session.execute(
            text("CREATE TEMP TABLE IF NOT EXISTS account_probe (name text UNIQUE, secret text)")
        )
        for _ in range(2):
            await session.execute(
                text("INSERT INTO account_probe VALUES (:name, :secret)"),
                {"name": PROBE_NAME, "secret": PROBE_SECRET},
            )

    return app


# Values no log redaction rule recognises: only the engine keeps them out of the error text.
PROBE_NAME = "Wanjiku Probe-Name"
PROBE_SECRET = "probe-secret-value-41"


class TestRequestSession:
    async def test_commit_happens_before_the_response_so_its_failure_is_reported(
        self, asgi_client: AsgiClientFactory
    ) -> None:
        async with asgi_client(app_with_routes(), raise_app_exceptions=False) as client:
            response = await client.post("/commit-fails")
        assert response.status_code == 500
        assert response.json()["error"] == "InternalServerError"


class TestAsgiClientWithTestSession:
    async def test_a_failed_request_leaves_nothing_in_the_test_transaction(
        self, asgi_client: AsgiClientFactory, db_session: AsyncSession
    ) -> None:
        await db_session.execute(text("CREATE TEMP TABLE probe (id int)"))
        async with asgi_client(
            app_with_routes(), session=db_session, raise_app_exceptions=False
        ) as client:
            response = await client.post("/raises")
        assert response.status_code == 500
        rows = (await db_session.execute(text("SELECT count(*) FROM probe"))).scalar_one()
        assert rows == 0


class TestStatementErrors:
    async def test_a_failed_statement_is_logged_without_its_parameters(
        self, asgi_client: AsgiClientFactory, log_lines: Callable[[], list[str]]
    ) -> None:
        async with asgi_client(app_with_routes(), raise_app_exceptions=False) as client:
            response = await client.post("/duplicate-account")

        lines = log_lines()
        (logged,) = [json.loads(line) for line in lines if "unhandled_error" in line]
        assert response.status_code == 500
        assert 'unique constraint "account_probe_name_key"' in logged["exception"]
        assert "[SQL parameters hidden due to hide_parameters=True]" in logged["exception"]
        assert not [line for line in lines if PROBE_NAME in line or PROBE_SECRET in line]
