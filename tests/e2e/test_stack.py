"""The whole platform as `make run` starts it: every Procfile process as its own OS process,
talking over loopback HTTP, driven the way the web app and a customer would drive it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from shared.devstack.supervisor import read_procfile
from shared.testing import wait_until
from shared.testing.processes import environment, free_port, url_of, wait_ready
from shared.webhook_signing import DEV_WEBHOOK_SECRET

READY_TIMEOUT_S = 60.0
FLOW_TIMEOUT_S = 60.0


@dataclass
class Stack:
    session_api: str
    gateway: str
    simulator: str
    logs: Path

    def log_tail(self) -> str:
        return self.logs.read_text()[-5000:]


def _procfile_environment(session: int, gateway: int, simulator: int, smtp: int) -> dict[str, str]:
    """The three services on these ports, wired to each other as `make run` wires them."""
    report_url = f"{url_of(session)}/v1/notifications/sms/reports/dev-sms-report-token"
    return {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "ENVIRONMENT": "development",
        **environment(
            "SIMULATOR_",
            PORT=str(simulator),
            TIME_SCALE=0.01,
            SMTP_PORT=str(smtp),
            SMS_DELIVERY_REPORT_URL=report_url,
        ),
        **environment(
            "GATEWAY_",
            PORT=str(gateway),
            DARAJA_BASE_URL=url_of(simulator),
            PUBLIC_BASE_URL=url_of(gateway),
            TIME_SCALE=0.01,
            WEBHOOK_ENDPOINTS=[
                {"url": f"{url_of(session)}/internal/payment-events", "secret": DEV_WEBHOOK_SECRET}
            ],
        ),
        **environment(
            "SESSION_API_",
            PORT=str(session),
            GATEWAY_URL=url_of(gateway),
            SMTP_PORT=str(smtp),
            SMS_URL=f"{url_of(simulator)}/version1/messaging",
        ),
    }


@pytest.fixture
async def stack(
    database_url: str, redis_client: Redis, clean_database: None, tmp_path: Path
) -> AsyncIterator[Stack]:
    session, gateway, simulator, smtp = free_port(), free_port(), free_port(), free_port()
    env = _procfile_environment(session, gateway, simulator, smtp)
    running = Stack(url_of(session), url_of(gateway), url_of(simulator), tmp_path / "stack.log")
    processes = []
    with running.logs.open("wb") as log:
        for spec in read_procfile(Path("Procfile")):
            processes.append(
                await asyncio.create_subprocess_shell(
                    f"exec {spec.command}",
                    env=env,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                for url in (running.session_api, running.gateway, running.simulator):
                    await wait_ready(client, f"{url}/readyz", processes, within=READY_TIMEOUT_S)
            yield running
        finally:
            for process in processes:
                if process.returncode is None:
                    os.killpg(process.pid, signal.SIGTERM)
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in processes)), 20)


async def _login(
    client: httpx.AsyncClient, stack: Stack, email: str, password: str
) -> dict[str, str]:
    response = await client.post(
        f"{stack.session_api}/v1/auth/login", json={"email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _stream_statuses(
    client: httpx.AsyncClient, stack: Stack, attempt_id: str, headers: dict[str, str]
) -> list[str]:
    statuses: list[str] = []
    async with client.stream(
        "GET", f"{stack.session_api}/v1/payments/{attempt_id}/stream", headers=headers
    ) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                statuses.append(json.loads(line.removeprefix("data:"))["status"])
    return statuses


async def _approved_booking(
    client: httpx.AsyncClient, stack: Stack, client_auth: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """A booking with the demo therapist at 2,500 KES, approved by them: its id, and the
    therapist's credentials."""
    therapist_auth = await _login(client, stack, "therapist@demo.test", "demo-therapist-pass")
    therapists = (await client.get(f"{stack.session_api}/v1/therapists")).json()["items"]
    therapist = next(t for t in therapists if t["session_rate"] == 2500)
    booking = await client.post(
        f"{stack.session_api}/v1/bookings",
        headers=client_auth,
        json={
            "therapist_id": therapist["id"],
            "scheduled_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            "session_type": "individual",
        },
    )
    assert booking.status_code == 201, booking.text
    assert booking.json()["status"] == "pending_approval"
    booking_id: str = booking.json()["id"]
    approved = await client.post(
        f"{stack.session_api}/v1/bookings/{booking_id}/approve", headers=therapist_auth
    )
    assert approved.json()["status"] == "approved"
    return booking_id, therapist_auth


async def _confirmed_with_receipt(
    client: httpx.AsyncClient, stack: Stack, booking_id: str, auth: dict[str, str]
) -> dict[str, Any]:
    """The booking once its payment's receipt is recorded: a poll can prove the payment before
    the callback that carries the receipt is verified; the receipt then follows in a later
    event."""

    async def receipt_recorded() -> dict[str, Any] | None:
        seen: dict[str, Any] = (
            await client.get(f"{stack.session_api}/v1/bookings/{booking_id}", headers=auth)
        ).json()
        return seen if seen["payment"]["receipt_number"] else None

    booking: dict[str, Any] = await wait_until(
        receipt_recorded, within=FLOW_TIMEOUT_S, what="the receipt", interval_s=0.1
    )
    return booking


def _built_index() -> str:
    index = Path("web/dist/index.html")
    if not index.is_file():
        if os.environ.get("CI"):
            pytest.fail("the web app is not built (make test builds it)")
        pytest.skip("the web app is not built: `make web-build`")
    return index.read_text()


class TestWholeStack:
    async def test_a_booking_is_paid_through_gateway_and_simulator_and_confirmed(
        self, stack: Stack
    ) -> None:
        async with httpx.AsyncClient(timeout=FLOW_TIMEOUT_S) as client:
            client_auth = await _login(client, stack, "client@demo.test", "demo-client-pass")
            booking_id, therapist_auth = await _approved_booking(client, stack, client_auth)

            attempt = await client.post(
                f"{stack.session_api}/v1/bookings/{booking_id}/pay",
                headers=client_auth,
                json={"phone": "0712 345 678"},
            )
            assert attempt.status_code == 201, attempt.text
            # session-api shows the gateway's own sentence for the payer.
            assert attempt.json()["customer_message"] == (
                "Check your phone and enter your M-Pesa PIN to pay KES 2,500."
            )
            statuses = await asyncio.wait_for(
                _stream_statuses(client, stack, attempt.json()["id"], client_auth), FLOW_TIMEOUT_S
            )
            assert statuses[-1] == "paid", stack.log_tail()

            seen_by_therapist = await _confirmed_with_receipt(
                client, stack, booking_id, therapist_auth
            )
            assert seen_by_therapist["status"] == "confirmed"
            receipt = seen_by_therapist["payment"]["receipt_number"]
            assert len(receipt) == 10

            # M-Pesa's own record agrees: one transaction with that receipt, for the rate.
            ledger = (await client.get(f"{stack.simulator}/simulator/ledger")).json()
            matching = [e for e in ledger["entries"] if e["receipt"] == receipt]
            assert [(e["amount"], e["phone"]) for e in matching] == [(2500, "254712345678")]

            # session-api's worker mailed the client the receipt, through the simulator's SMTP.
            async def confirmation() -> dict[str, Any] | None:
                emails = (
                    await client.get(
                        f"{stack.simulator}/simulator/emails", params={"to": "client@demo.test"}
                    )
                ).json()["emails"]
                return next((e for e in emails if receipt in e["text"]), None)

            email = await wait_until(
                confirmation, within=FLOW_TIMEOUT_S, what="the confirmation email", interval_s=0.1
            )
            assert email["attachments"][0]["filename"] == f"receipt-{receipt}.pdf"

    async def test_a_cancelled_deposit_credits_nothing_and_says_why(self, stack: Stack) -> None:
        async with httpx.AsyncClient(timeout=FLOW_TIMEOUT_S) as client:
            auth = await _login(client, stack, "client@demo.test", "demo-client-pass")
            before = (await client.get(f"{stack.session_api}/v1/wallet", headers=auth)).json()
            deposit = await client.post(
                f"{stack.session_api}/v1/wallet/deposits",
                headers=auth,
                json={"amount": 500, "phone": "+254 700 000 001"},
            )
            assert deposit.status_code == 201, deposit.text
            attempt_id = deposit.json()["attempt"]["id"]
            statuses = await asyncio.wait_for(
                _stream_statuses(client, stack, attempt_id, auth), FLOW_TIMEOUT_S
            )
            assert statuses[-1] == "cancelled", stack.log_tail()
            attempt = (
                await client.get(f"{stack.session_api}/v1/payments/{attempt_id}", headers=auth)
            ).json()
            assert attempt["reason"] == "customer_cancelled"
            assert attempt["can_retry"] is True
            after = (await client.get(f"{stack.session_api}/v1/wallet", headers=auth)).json()
            assert after["balance"] == before["balance"]

    async def test_the_root_serves_the_web_app_and_its_assets(self, stack: Stack) -> None:
        """Acceptance: after `make run`, http://127.0.0.1:8000/ is the web app (its sign-in page
        is what the browser tests see first), served by session-api with its SPA fallback."""
        index = _built_index()
        async with httpx.AsyncClient(timeout=FLOW_TIMEOUT_S) as client:
            root = await client.get(f"{stack.session_api}/")
            assert root.status_code == 200, stack.log_tail()
            assert root.text == index
            assert (await client.get(f"{stack.session_api}/signin")).text == root.text
            script = root.text.split('src="', 1)[1].split('"', 1)[0]
            asset = await client.get(f"{stack.session_api}{script}")
            assert asset.status_code == 200
            assert "javascript" in asset.headers["content-type"]
            missing = await client.get(f"{stack.session_api}/v1/no-such-thing")
            assert missing.status_code == 404
            assert missing.json()["error"] == "NotFound"
