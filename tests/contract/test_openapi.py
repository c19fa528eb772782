"""Both services answer as their OpenAPI documents say: Schemathesis generates requests from each
document and checks that no answer is a server error, that every status is documented and that
every body matches its documented schema.

The simulator, the gateway and session-api run on loopback in a thread of their own (the
generated tests are synchronous), with the real PostgreSQL and Redis, and are called with the
gateway's service key and a real session-api user's access token. Generation is derandomized and
bounded, so the run is the same every time and takes seconds."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import Case
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.transport import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from daraja_simulator.config import Settings as SimulatorSettings
from daraja_simulator.main import create_app as create_simulator
from payment_gateway.config import Settings as GatewaySettings
from payment_gateway.main import create_app as create_gateway
from session_api.auth import service as auth_service
from session_api.config import Settings as SessionSettings
from session_api.main import create_app as create_session_api
from session_api.models import User, UserRole
from session_api.therapist import service as therapist_service
from session_api.therapist.schemas import TherapistCreate
from session_api.user import service as user_service
from shared.serving import serve_app
from shared.testing import truncate_tables

SERVICE_KEY = "contract-service-key"
PASSWORD = "contract test password"
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

# Deterministic (a fixed seed, derandomized generation, no example database) and bounded: the
# documents' own examples plus ten generated requests per operation, valid and invalid alike,
# about 400 in all. The coverage phase (every boundary of every parameter: about 1,900 requests,
# 40 s on two busy cores) is too slow for every `make test`; the boundaries that once broke each
# have a regression test. The stateful phase follows OpenAPI links, which FastAPI does not write.
CONFIG: dict[str, Any] = {
    "seed": 20261201,
    "generation": {"max-examples": 10, "deterministic": True, "database": "none"},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    # These health checks time or count generation attempts: on busy cores that is noise.
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
}


@dataclass
class Served:
    """The gateway and session-api on loopback, and an access token per session-api role."""

    gateway_url: str
    session_api_url: str
    session_api: FastAPI
    session_settings: SessionSettings
    tokens: dict[UserRole, str]


async def _user(served: Served, role: UserRole) -> str:
    settings = served.session_settings
    email = f"contract-{role.value}-{uuid.uuid4().hex[:8]}@example.com"
    async with served.session_api.state.sessionmaker() as session, session.begin():
        user: User
        if role is UserRole.therapist:
            user, _ = await therapist_service.create_therapist(
                session,
                settings=settings,
                request=TherapistCreate(
                    email=email,
                    password=PASSWORD,
                    full_name="Contract Therapist",
                    session_rate=2500,
                ),
            )
        else:
            user = await user_service.create_user(
                session,
                email=email,
                password_hash=await auth_service.hash_password(settings, PASSWORD),
                full_name=f"Contract {role.value.title()}",
                role=role,
            )
    return auth_service.issue_token(settings, user).access_token


@pytest.fixture(scope="module")
async def emptied_database(db_engine: AsyncEngine) -> AsyncIterator[None]:
    # Generated requests commit rows (accounts, orders, payments): none may outlive this module.
    await truncate_tables(db_engine)
    yield
    await truncate_tables(db_engine)


@pytest.fixture(scope="module")
def served(emptied_database: None, database_url: str, redis_url: str) -> Iterator[Served]:
    loop = asyncio.new_event_loop()
    ready: concurrent.futures.Future[Served] = concurrent.futures.Future()
    stop = asyncio.Event()

    async def main() -> None:
        try:
            simulator = create_simulator(SimulatorSettings(TIME_SCALE=0.01, SEED=7))
            async with serve_app(simulator) as simulator_url:
                gateway_settings = GatewaySettings(
                    API_KEYS=[SERVICE_KEY],
                    NAMESPACE=f"contract_{uuid.uuid4().hex[:8]}",
                    DARAJA_BASE_URL=simulator_url,
                    STATS_REFRESH_S=3600,
                )
                gateway = create_gateway(gateway_settings)
                async with serve_app(gateway) as gateway_url:
                    gateway_settings.PUBLIC_BASE_URL = gateway_url
                    session_settings = SessionSettings(
                        DATABASE_URL=database_url,
                        REDIS_URL=redis_url,
                        ENVIRONMENT="testing",
                        GATEWAY_URL=gateway_url,
                        GATEWAY_API_KEY=SERVICE_KEY,
                        SEED_ON_STARTUP=False,
                        ARGON2_TIME_COST=1,
                        ARGON2_MEMORY_KIB=64,
                        ARGON2_PARALLELISM=1,
                    )
                    session_api = create_session_api(session_settings)
                    async with serve_app(session_api) as session_api_url:
                        served = Served(
                            gateway_url=gateway_url,
                            session_api_url=session_api_url,
                            session_api=session_api,
                            session_settings=session_settings,
                            tokens={},
                        )
                        for role in (UserRole.client, UserRole.therapist, UserRole.admin):
                            served.tokens[role] = await _user(served, role)
                        ready.set_result(served)
                        await stop.wait()
        except BaseException as e:
            if not ready.done():
                ready.set_exception(e)
            raise

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        yield ready.result(timeout=60)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        loop.close()


def _schema(app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(
        app.openapi(), config=schemathesis.Config.from_dict(CONFIG)
    )


# The documents come from apps built with the same limits as the served ones; requests go to the
# served apps (`base_url`), which exist only once the tests run.
gateway = _schema(create_gateway(GatewaySettings(ENVIRONMENT="development")))
session_api = _schema(create_session_api(SessionSettings(ENVIRONMENT="development"))).exclude(
    # Server-Sent Events streams stay open (until the payment ends, or for SSE_MAX_DURATION_S);
    # each is tested on its own.
    path=["/v1/payments/{attempt_id}/stream", "/v1/notifications/stream"],
)


def _role_for(case: Case[Any]) -> UserRole:
    if case.path.startswith("/v1/admin/"):
        return UserRole.admin
    if case.path == "/v1/therapists/me" or case.path.endswith(("/approve", "/decline")):
        return UserRole.therapist
    return UserRole.client


@gateway.parametrize()
def test_gateway_answers_as_documented(case: Case[Any], served: Served) -> None:
    response: Response = case.call_and_validate(
        base_url=served.gateway_url,
        headers={"Authorization": f"Bearer {SERVICE_KEY}"},
        checks=CHECKS,
    )
    assert response.status_code < 500


@session_api.parametrize()
def test_session_api_answers_as_documented(case: Case[Any], served: Served) -> None:
    token = served.tokens[_role_for(case)]
    response: Response = case.call_and_validate(
        base_url=served.session_api_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )
    assert response.status_code < 500
