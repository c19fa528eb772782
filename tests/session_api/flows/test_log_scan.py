"""Issue 9, acceptance 3: a whole flow (an account registered and logged in, a wallet deposit paid
and one cancelled through the real gateway, its worker and the simulator, with their callbacks
and events) writes no secret and no personal detail in any log line, and its ids stay intact."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text

from daraja_simulator.config import App, Shortcode
from session_api.models import User
from tests.session_api.fixtures import Account
from tests.session_api.flows.flow import EVENT_SECRET, SERVICE_KEY, Flow, FlowFactory, phone

CONSUMER_KEY = "LogScanConsumerKey7Qx2"
CONSUMER_SECRET = "LogScanConsumerSecret9Zk4"
PASSKEY = "4f0c1d2e3b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
PASSWORD = "log-scan-password-1"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.")
RAW_CALLBACK_PATH = re.compile(r"/callbacks/stk/(?!\*\*\*)")


@dataclass
class Observed:
    """What one whole flow left behind, to search the logs for."""

    email: str = field(default_factory=lambda: f"log-scan-{uuid.uuid4().hex[:8]}@example.com")
    phones: tuple[str, str, str] = field(
        default_factory=lambda: (phone("100"), phone("100"), phone("001"))
    )
    # Shapes the old phone masker rewrote: dash groups of a UUID, and a phone-like digit run
    # inside a hex id.
    dashed_id: str = field(
        default_factory=lambda: f"{uuid.uuid4().hex[:8]}-1234-5678-9abc-254712345678"
    )
    hex_id: str = field(default_factory=lambda: f"ab0712345678cd{uuid.uuid4().hex}")
    jwt: str = ""
    settled: list[str] = field(default_factory=list)
    paid_attempt: str = ""
    callbacks: list[dict[str, Any]] = field(default_factory=list)
    password_hash: str | None = None
    daraja_tokens: list[str] = field(default_factory=list)
    gateway_payment_ids: set[str] = field(default_factory=set)


async def _sign_up(flow: Flow, seen: Observed) -> Account:
    """Register, fail one login, log in: the account with its token."""
    registered = await flow.api.post(
        "/v1/auth/register",
        json={
            "email": seen.email,
            "password": PASSWORD,
            "full_name": "Log Scan",
            "phone": seen.phones[0],
        },
    )
    assert registered.status_code == 201, registered.text
    refused = await flow.api.post(
        "/v1/auth/login", json={"email": seen.email, "password": "not-the-password"}
    )
    assert refused.status_code == 401, refused.text
    login = await flow.api.post("/v1/auth/login", json={"email": seen.email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    seen.jwt = login.json()["access_token"]
    async with flow.session_api.state.sessionmaker() as session:
        user = await session.get(User, uuid.UUID(registered.json()["id"]))
        seen.password_hash = await session.scalar(
            text("SELECT password_hash FROM sessions.user_account WHERE email = :email"),
            {"email": seen.email},
        )
    assert user is not None
    return Account(user=user, token=seen.jwt)


async def _deposit_twice(flow: Flow, seen: Observed, viewer: Account) -> None:
    """One deposit paid, one cancelled, each under its own request id."""
    paid = await flow.api.post(
        "/v1/wallet/deposits",
        json={"amount": 500, "phone": seen.phones[1]},
        headers={**viewer.headers, "X-Request-ID": seen.dashed_id},
    )
    cancelled = await flow.api.post(
        "/v1/wallet/deposits",
        json={"amount": 300, "phone": seen.phones[2]},
        headers={**viewer.headers, "X-Request-ID": seen.hex_id},
    )
    assert paid.status_code == cancelled.status_code == 201, (paid.text, cancelled.text)
    seen.paid_attempt = paid.json()["attempt"]["id"]
    seen.settled = [
        (await flow.settled(seen.paid_attempt, viewer))["status"],
        (await flow.settled(cancelled.json()["attempt"]["id"], viewer))["status"],
    ]
    await flow.refresh()


async def _run(make_flow: FlowFactory, redis_client: Redis) -> Observed:
    seen = Observed()
    async with make_flow(
        simulator={
            "APPS": [App(consumer_key=CONSUMER_KEY, consumer_secret=CONSUMER_SECRET)],
            "SHORTCODES": [
                Shortcode(shortcode="174379", passkey=PASSKEY, organization_name="Log scan")
            ],
        },
        gateway={
            "DARAJA_CONSUMER_KEY": CONSUMER_KEY,
            "DARAJA_CONSUMER_SECRET": CONSUMER_SECRET,
            "DARAJA_PASSKEY": PASSKEY,
        },
    ) as flow:
        await _deposit_twice(flow, seen, await _sign_up(flow, seen))
        seen.callbacks = (await flow.simulator.get("/simulator/callbacks")).json()["attempts"]
        seen.daraja_tokens = [
            value.decode()
            for key in await redis_client.keys("*daraja:token:*")
            if not key.endswith(b":lock") and (value := await redis_client.get(key))
        ]
        seen.gateway_payment_ids = {e["data"]["id"] for e in flow.relay.forwarded}
    return seen


def _leaks(lines: list[str], seen: Observed, callback_tokens: set[str]) -> list[str]:
    secrets: dict[str, set[str]] = {
        "callback token": callback_tokens,
        "consumer key": {CONSUMER_KEY},
        "consumer secret": {CONSUMER_SECRET},
        "passkey": {PASSKEY},
        "Daraja access token": set(seen.daraja_tokens),
        "service key": {SERVICE_KEY},
        "webhook secret": {EVENT_SECRET, EVENT_SECRET.removeprefix("whsec_")},
        "password": {PASSWORD, "not-the-password"},
        "password hash": {seen.password_hash or ""},
        "e-mail address": {seen.email},
        "access token": {seen.jwt},
        # The nine significant digits are inside every spelling (07…, 2547…, +254 7…) and inside
        # Daraja's CheckoutRequestID.
        "phone number": {p[1:] for p in seen.phones},
    }
    leaks = [
        f"{what}: {line}"
        for line in lines
        for what, values in secrets.items()
        for value in values
        if value in line
    ]
    leaks += [f"argon2 hash: {line}" for line in lines if "$argon2" in line]
    leaks += [f"JWT: {line}" for line in lines if JWT.search(line)]
    leaks += [f"callback path: {line}" for line in lines if RAW_CALLBACK_PATH.search(line)]
    return leaks


def _assert_ids_whole(lines: list[str], events: list[dict[str, Any]], seen: Observed) -> None:
    """Request ids (in session-api's and the gateway's lines), UUIDs in paths and fields, and
    CheckoutRequestIDs with only the phone digits masked."""
    for request_id in (seen.dashed_id, seen.hex_id):
        paths = {e.get("path") for e in events if e.get("request_id") == request_id}
        # session-api's line and the gateway's, which got the id passed on.
        assert {"/v1/wallet/deposits", "/v1/payments"} <= paths, (request_id, paths)
    assert any(e.get("path") == f"/v1/payments/{seen.paid_attempt}" for e in events)
    for payment_id in seen.gateway_payment_ids:
        assert any(e.get("gateway_payment_id") == payment_id for e in events), payment_id
    for checkout_id in {a["reference"] for a in seen.callbacks}:
        digits = checkout_id.removeprefix("ws_CO_")
        masked = f"ws_CO_{digits[:-9]}*****{digits[-4:]}"
        assert any(masked in line for line in lines), masked


async def test_a_whole_flow_logs_no_secret_or_personal_detail_and_keeps_ids_intact(
    make_flow: FlowFactory, log_lines: Callable[[], list[str]], redis_client: Redis
) -> None:
    seen = await _run(make_flow, redis_client)

    lines = log_lines()
    callback_tokens = {a["url"].rsplit("/", 1)[1] for a in seen.callbacks}
    assert seen.settled == ["paid", "cancelled"]
    assert len(callback_tokens) == 2
    assert seen.password_hash and seen.daraja_tokens and len(seen.gateway_payment_ids) == 2
    leaks = _leaks(lines, seen, callback_tokens)
    assert not leaks, "\n".join(leaks)
    # Every line is one JSON object, whatever logged it: our code, uvicorn, arq or httpx.
    events = [json.loads(line) for line in lines]
    assert len(events) > 50
    assert any(
        e["event"].startswith("HTTP Request: POST") and "/v1/callbacks/stk/***" in e["event"]
        for e in events
    ), "the simulator's callback requests (logged by httpx) were not captured"
    assert any(e.get("path", "").startswith("/v1/callbacks/stk/***") for e in events)
    _assert_ids_whole(lines, events, seen)
