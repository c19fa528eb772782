"""Acceptance 3 of issue 13 for session-api: 429 with Retry-After at the configured thresholds,
shared by two API processes (two apps on one Redis), reset after the window."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.auth import service as auth_service
from session_api.config import Settings
from session_api.main import create_app
from session_api.models import UserRole
from session_api.ratelimit import REDIS_PREFIX, login_per_ip
from shared.ratelimit import RateLimiter, Rule
from shared.testing import open_asgi_client
from shared.testing.waiting import wait_until
from tests.session_api.fixtures import (
    PASSWORD,
    FakeGateway,
    MakeAccount,
    approved_booking,
    make_settings,
)


def fresh_address() -> str:
    # Each test calls from its own address (one proxy in front), so no two share a window.
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def fresh_phone() -> str:
    return f"07{uuid.uuid4().int % 10**8:08d}"


@pytest.fixture
def limited(database_url: str, redis_url: str) -> Any:
    def build(**overrides: Any) -> Settings:
        return make_settings(database_url, redis_url, TRUSTED_PROXY_HOPS=1, **overrides)

    return build


@contextlib.asynccontextmanager
async def two_processes(
    settings: Settings, session: AsyncSession, gateway: FakeGateway
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two app instances, each with its own Redis client, as two API processes would be."""
    first = create_app(settings, gateway=gateway.client())
    second = create_app(settings, gateway=gateway.client())
    async with (
        open_asgi_client(first, session=session) as one,
        open_asgi_client(second, session=session) as other,
    ):
        yield one, other


async def reopened(settings: Settings, rule: Rule, identifier: str) -> None:
    """Wait, by asking the limiter (a third process's view of the shared Redis), until the rule
    allows `identifier` again."""
    redis = Redis.from_url(settings.REDIS_URL)
    limiter = RateLimiter(redis, prefix=REDIS_PREFIX)
    try:

        async def allows() -> bool:
            return await limiter.retry_after_s(rule, identifier) == 0

        await wait_until(allows, within=5, what=f"the {rule.name} window to empty")
    finally:
        await redis.aclose()


def assert_too_many(response: httpx.Response, counts: str) -> int:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] == "TooManyRequests"
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    assert body["detail"].startswith(f"too many {counts}; try again in {retry_after} seconds")
    return retry_after


class TestLoginAndRegistration:
    async def test_login_per_address_is_shared_by_two_processes(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway
    ) -> None:
        settings = limited(LOGIN_RATE_LIMIT_PER_IP="3/minute")
        address = {"X-Forwarded-For": fresh_address()}
        attempt = {"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "wrong password"}
        async with two_processes(settings, db_session, gateway) as (one, other):
            answers = [
                await client.post("/v1/auth/login", json=attempt, headers=address)
                for client in (one, other, one)
            ]
            assert [a.status_code for a in answers] == [401, 401, 401]

            refused = await other.post("/v1/auth/login", json=attempt, headers=address)

            retry_after = assert_too_many(refused, "login attempts from this address")
            assert retry_after <= 60
            elsewhere = {"X-Forwarded-For": fresh_address()}
            assert (
                await one.post("/v1/auth/login", json=attempt, headers=elsewhere)
            ).status_code == 401

    async def test_registration_per_address(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway
    ) -> None:
        settings = limited(REGISTER_RATE_LIMIT_PER_IP="2/hour")
        address = {"X-Forwarded-For": fresh_address()}

        async def register(client: httpx.AsyncClient) -> httpx.Response:
            body = {
                "email": f"{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
                "full_name": "Sign Up",
            }
            return await client.post("/v1/auth/register", json=body, headers=address)

        async with two_processes(settings, db_session, gateway) as (one, other):
            assert (await register(one)).status_code == 201
            assert (await register(other)).status_code == 201

            retry_after = assert_too_many(await register(one), "sign-ups from this address")

        assert 3500 < retry_after <= 3600

    async def test_the_address_window_reopens_after_it_passes(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway
    ) -> None:
        settings = limited(LOGIN_RATE_LIMIT_PER_IP="2/second")
        address = fresh_address()
        attempt = {"email": "nobody@example.com", "password": "wrong password"}
        headers = {"X-Forwarded-For": address}
        async with two_processes(settings, db_session, gateway) as (one, other):
            for client in (one, other):
                await client.post("/v1/auth/login", json=attempt, headers=headers)
            assert_too_many(
                await one.post("/v1/auth/login", json=attempt, headers=headers),
                "login attempts from this address",
            )

            await reopened(settings, login_per_ip(settings), address)

            again = await other.post("/v1/auth/login", json=attempt, headers=headers)
            assert again.status_code == 401


class TestFailedLoginLockout:
    async def test_failures_lock_the_account_and_the_lockout_grows(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway, account: MakeAccount
    ) -> None:
        settings = limited(LOGIN_FAILURE_LOCKOUT="2/second;3/hour")
        user = await account()
        wrong = {"email": user.user.email, "password": "not the password"}
        right = {"email": user.user.email, "password": PASSWORD}

        def anywhere() -> dict[str, str]:
            # Each attempt from another address: the lockout is the account's, not an address's.
            return {"X-Forwarded-For": fresh_address()}

        async with two_processes(settings, db_session, gateway) as (one, other):
            for client in (one, other):
                failed = await client.post("/v1/auth/login", json=wrong, headers=anywhere())
                assert failed.status_code == 401

            # Locked: even the right password waits, so guessing gains nothing.
            locked = await one.post("/v1/auth/login", json=right, headers=anywhere())
            assert assert_too_many(locked, "failed logins for this account") <= 1

            await reopened(settings, auth_service.login_failures(settings), user.user.email)
            failed = await other.post("/v1/auth/login", json=wrong, headers=anywhere())
            assert failed.status_code == 401

            # The third failure fills the hour's window: the lockout is now that long.
            longer = await one.post("/v1/auth/login", json=right, headers=anywhere())
            assert assert_too_many(longer, "failed logins for this account") > 3500

    async def test_a_success_forgets_the_failures(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway, account: MakeAccount
    ) -> None:
        settings = limited(LOGIN_FAILURE_LOCKOUT="2/minute")
        user = await account()
        wrong = {"email": user.user.email, "password": "not the password"}
        right = {"email": user.user.email, "password": PASSWORD}
        async with two_processes(settings, db_session, gateway) as (one, _):
            assert (await one.post("/v1/auth/login", json=wrong)).status_code == 401
            assert (await one.post("/v1/auth/login", json=right)).status_code == 200

            assert (await one.post("/v1/auth/login", json=wrong)).status_code == 401
            assert (await one.post("/v1/auth/login", json=wrong)).status_code == 401

    async def test_unknown_accounts_lock_the_same_way(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway
    ) -> None:
        settings = limited(LOGIN_FAILURE_LOCKOUT="1/minute")
        attempt = {"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "guess"}
        async with two_processes(settings, db_session, gateway) as (one, other):
            assert (await one.post("/v1/auth/login", json=attempt)).status_code == 401

            locked = await other.post("/v1/auth/login", json=attempt)

            assert_too_many(locked, "failed logins for this account")

    async def test_wrong_passwords_to_erase_the_account_count_too(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway, account: MakeAccount
    ) -> None:
        settings = limited(LOGIN_FAILURE_LOCKOUT="2/minute")
        user = await account()
        wrong = {"password": "not the password"}
        async with two_processes(settings, db_session, gateway) as (one, other):
            for client in (one, other):
                refused = await client.request("DELETE", "/v1/me", json=wrong, headers=user.headers)
                assert refused.status_code == 403

            locked = await one.post(
                "/v1/auth/login", json={"email": user.user.email, "password": PASSWORD}
            )

            assert_too_many(locked, "failed logins for this account")
            assert gateway.erasures == []

    async def test_wrong_passwords_to_switch_environments_count_too(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway, account: MakeAccount
    ) -> None:
        settings = limited(LOGIN_FAILURE_LOCKOUT="3/minute")
        admin = await account(role=UserRole.admin)
        path = "/v1/admin/settings/environment"
        wrong = {"environment": "sandbox", "password": "not the password"}
        right = {"environment": "sandbox", "password": PASSWORD}
        async with two_processes(settings, db_session, gateway) as (one, other):
            for client in (one, other, one):
                refused = await client.post(path, json=wrong, headers=admin.headers)
                assert refused.status_code == 403, refused.text
                assert refused.json()["error"] == "PasswordMismatch"

            # At the threshold even the right password waits, so the switch cannot be guessed.
            locked = await other.post(path, json=right, headers=admin.headers)
            login = await one.post(
                "/v1/auth/login", json={"email": admin.user.email, "password": PASSWORD}
            )

            assert assert_too_many(locked, "failed logins for this account") >= 1
            assert_too_many(login, "failed logins for this account")


class TestPaymentInitiation:
    async def test_five_prompts_to_one_phone_in_ten_minutes_whoever_asks(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway, account: MakeAccount
    ) -> None:
        settings = limited(PAYMENT_RATE_LIMIT_PER_PHONE="5/10 minutes")
        phone = fresh_phone()
        payers = [await account(), await account()]
        async with two_processes(settings, db_session, gateway) as (one, other):
            for n in range(5):
                client, payer = (one, payers[0]) if n % 2 else (other, payers[1])
                created = await client.post(
                    "/v1/wallet/deposits",
                    json={"amount": 100, "phone": phone},
                    headers=payer.headers,
                )
                assert created.status_code == 201, created.text

            # Another spelling of the same number is the same phone.
            spelled = "+254 " + phone[1:]
            refused = await one.post(
                "/v1/wallet/deposits",
                json={"amount": 100, "phone": spelled},
                headers=payers[0].headers,
            )

            retry_after = assert_too_many(refused, "M-Pesa prompts to this phone")
            assert retry_after <= 600
            assert len(gateway.creates) == 5
            other_phone = await other.post(
                "/v1/wallet/deposits",
                json={"amount": 100, "phone": fresh_phone()},
                headers=payers[0].headers,
            )
            assert other_phone.status_code == 201

    async def test_payment_requests_per_account(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway, account: MakeAccount
    ) -> None:
        settings = limited(PAYMENT_RATE_LIMIT_PER_USER="2/10 minutes")
        payer = await account()
        async with two_processes(settings, db_session, gateway) as (one, other):
            for client in (one, other):
                created = await client.post(
                    "/v1/wallet/deposits",
                    json={"amount": 100, "phone": fresh_phone()},
                    headers=payer.headers,
                )
                assert created.status_code == 201, created.text

            refused = await one.post(
                "/v1/wallet/deposits",
                json={"amount": 100, "phone": fresh_phone()},
                headers=payer.headers,
            )

            assert_too_many(refused, "payment requests from your account")
            someone_else = await account()
            allowed = await one.post(
                "/v1/wallet/deposits",
                json={"amount": 100, "phone": fresh_phone()},
                headers=someone_else.headers,
            )
            assert allowed.status_code == 201

    async def test_bookings_orders_and_deposits_share_the_allowance(
        self, limited: Any, db_session: AsyncSession, gateway: FakeGateway, account: MakeAccount
    ) -> None:
        settings = limited(PAYMENT_RATE_LIMIT_PER_USER="1/10 minutes")
        client = await account()
        therapist = await account(role=UserRole.therapist)
        async with two_processes(settings, db_session, gateway) as (one, other):
            booking = await approved_booking(one, client, therapist)
            created = await other.post(
                "/v1/wallet/deposits",
                json={"amount": 100, "phone": fresh_phone()},
                headers=client.headers,
            )
            assert created.status_code == 201, created.text

            refused = await one.post(
                f"/v1/bookings/{booking['id']}/pay",
                json={"phone": fresh_phone()},
                headers=client.headers,
            )

            assert_too_many(refused, "payment requests from your account")
            assert len(gateway.creates) == 1
