import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, update

from session_api import cli
from session_api.auth import service as auth_service
from session_api.config import Settings
from session_api.models import Product, TherapistProfile, User, Wallet
from shared import db


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch, clean_database: None) -> None:
    monkeypatch.setenv("SESSION_API_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("SESSION_API_ARGON2_MEMORY_KIB", "64")
    monkeypatch.setenv("SESSION_API_ARGON2_PARALLELISM", "1")


def query(statement: Any) -> Any:
    async def run() -> Any:
        settings = Settings()
        engine = db.create_engine(settings.DATABASE_URL)
        try:
            async with db.create_sessionmaker(engine)() as session:
                return (await session.execute(statement)).all()
        finally:
            await engine.dispose()

    return asyncio.run(run())


class TestSeed:
    def test_creates_the_demo_accounts_and_products_once(self) -> None:
        assert cli.main(["seed"]) == 0
        assert cli.main(["seed"]) == 0

        users = dict(query(select(User.email, User.role)))
        assert {email: role.value for email, role in users.items()} == {
            "admin@demo.test": "admin",
            "staff@demo.test": "staff",
            "therapist@demo.test": "therapist",
            "client@demo.test": "client",
        }
        assert query(select(TherapistProfile.session_rate)) == [(2_500,)]
        assert query(select(func.count()).select_from(Product))[0][0] == 4
        assert query(select(func.count()).select_from(Wallet))[0][0] == 4

    def test_the_demo_passwords_work(self) -> None:
        cli.main(["seed"])
        stored = dict(query(select(User.email, User.password_hash)))

        async def check(email: str, password: str) -> bool:
            return await auth_service.verify_password(Settings(), stored[email], password)

        assert asyncio.run(check("client@demo.test", "demo-client-pass"))
        assert asyncio.run(check("therapist@demo.test", "demo-therapist-pass"))
        assert asyncio.run(check("admin@demo.test", "demo-admin-pass"))
        assert asyncio.run(check("staff@demo.test", "demo-staff-pass"))

    def test_refused_outside_development(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("ENVIRONMENT", "sandbox")
        monkeypatch.setenv("SESSION_API_JWT_SECRET", "a-real-secret-that-is-long-enough-for-hs256")
        monkeypatch.setenv("SESSION_API_GATEWAY_API_KEY", "k3y-from-the-vault")
        monkeypatch.setenv("SESSION_API_WEBHOOK_SECRET", "whsec_cmVhbCBzZWNyZXQ=")
        monkeypatch.setenv("SESSION_API_SMS_API_KEY", "atsk_from_the_vault_0123456789")
        monkeypatch.setenv("SESSION_API_SMS_REPORT_TOKEN", "r4nd0m-report-path-token")
        monkeypatch.setenv(
            "SESSION_API_AUDIT_SIGNING_KEY", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
        )
        monkeypatch.setenv("SESSION_API_PHONE_HASH_KEY", "an-hmac-key-from-the-vault")

        assert cli.main(["seed"]) == 1
        assert "development only" in capsys.readouterr().err
        assert query(select(func.count()).select_from(User))[0][0] == 0


class TestCreateAdmin:
    def test_creates_an_admin_once(self, capsys: pytest.CaptureFixture[str]) -> None:
        args = ["create-admin", "--email", "Ops@Example.com", "--password", "a long password"]

        assert cli.main(args) == 0
        assert cli.main(args) == 1

        assert "already exists" in capsys.readouterr().err
        assert query(select(User.email, User.role)) == [("ops@example.com", "admin")]

    def test_takes_the_password_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SESSION_API_ADMIN_PASSWORD", "from the environment")

        assert cli.main(["create-admin", "--email", "env@example.com"]) == 0

    def test_a_short_password_is_refused(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert cli.main(["create-admin", "--email", "a@example.com", "--password", "short"]) == 2
        assert "password" in capsys.readouterr().err


class TestCheckWallets:
    def test_exit_status_says_whether_balances_match(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        cli.main(["seed"])
        assert cli.main(["check-wallets"]) == 0

        async def drift() -> None:
            settings = Settings()
            engine = db.create_engine(settings.DATABASE_URL)
            async with db.create_sessionmaker(engine)() as session, session.begin():
                await session.execute(update(Wallet).values(balance=5))
            await engine.dispose()

        asyncio.run(drift())

        assert cli.main(["check-wallets"]) == 1
        assert "4 mismatched" in capsys.readouterr().out
