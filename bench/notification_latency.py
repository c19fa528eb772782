"""Payment callback → confirmation email: how long after the simulated M-Pesa callback leaves
the simulator the booking's confirmation email (with its PDF receipt) reaches the simulator's SMTP
server. The whole path runs for real over loopback: the gateway verifies the callback and sends
its signed event, session-api confirms the booking and writes the outbox row, session-api's
worker renders the email and the receipt and sends it by SMTP.

All in this process (the test harness's ``run_system``: simulator, gateway and its worker,
session-api and its worker, on one event loop), on a scratch database. Printed: p50/p95/max over
PAYMENTS payments, CONCURRENCY at a time. The goal is a p95 under 5 s.

Needs DATABASE_URL and REDIS_URL (`make bench` sets them).
"""

from __future__ import annotations

import asyncio
import statistics
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

from bench.services import base_urls
from session_api.auth import service as auth_service
from session_api.models import UserRole
from session_api.therapist import service as therapist_service
from session_api.therapist.schemas import TherapistCreate
from session_api.user import service as user_service
from shared.logging import configure_logging
from shared.testing.database import scratch_database
from shared.testing.system import EVENTS_PATH, ServedSessionApi, phone, run_system
from shared.testing.waiting import wait_until

PAYMENTS = 40
CONCURRENCY = 4
PASSWORD = "bench-password-123"  # noqa: S105 (a benchmark account on a scratch database)


def relay(target: list[str]) -> FastAPI:
    """The gateway's subscriber: forwards each signed event to session-api unchanged."""
    app = FastAPI()

    @app.post(EVENTS_PATH)
    async def forward(request: Request) -> Response:
        headers = {
            name: request.headers[name]
            for name in ("content-type", "webhook-id", "webhook-timestamp", "webhook-signature")
        }
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(target[0], content=await request.body(), headers=headers)
        return Response(status_code=answer.status_code, content=answer.content)

    return app


async def accounts(
    served: ServedSessionApi,
) -> tuple[dict[str, str], dict[str, str], str, str]:
    """A client and a therapist: their auth headers, the client's email address and the
    therapist's id."""
    settings = served.settings
    async with served.app.state.sessionmaker() as session, session.begin():
        client = await user_service.create_user(
            session,
            email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
            password_hash=await auth_service.hash_password(settings, PASSWORD),
            full_name="Bench Client",
            role=UserRole.client,
        )
        therapist, _ = await therapist_service.create_therapist(
            session,
            settings=settings,
            request=TherapistCreate(
                email=f"bench-t-{uuid.uuid4().hex[:8]}@example.com",
                password=PASSWORD,
                full_name="Bench Therapist",
                session_rate=1_000,
            ),
        )
    return (
        {"Authorization": f"Bearer {auth_service.issue_token(settings, client).access_token}"},
        {"Authorization": f"Bearer {auth_service.issue_token(settings, therapist).access_token}"},
        client.email,
        str(therapist.id),
    )


async def one_payment(
    api: httpx.AsyncClient, simulator: httpx.AsyncClient, served: ServedSessionApi, index: int
) -> float:
    client, therapist, email, therapist_id = await accounts(served)
    starts = datetime.now(UTC) + timedelta(days=2, hours=2 * index)
    booking = (
        await api.post(
            "/v1/bookings",
            json={
                "therapist_id": therapist_id,
                "scheduled_at": starts.isoformat(),
                "session_type": "individual",
            },
            headers=client,
        )
    ).json()
    await api.post(f"/v1/bookings/{booking['id']}/approve", headers=therapist)
    paid = await api.post(
        f"/v1/bookings/{booking['id']}/pay", json={"phone": phone()}, headers=client
    )
    assert paid.status_code == 201, paid.text
    reference = f"BK{uuid.UUID(booking['id']).hex[:10].upper()}"

    async def confirmation() -> dict[str, Any] | None:
        emails = (await simulator.get("/simulator/emails", params={"to": email})).json()
        found = [e for e in emails["emails"] if e["subject"].startswith("Session confirmed")]
        return found[0] if found else None

    mail = await wait_until(confirmation, within=60, what=f"the confirmation of {reference}")
    checkouts = (await simulator.get("/simulator/checkouts")).json()
    (checkout,) = [c for c in checkouts if c["account_reference"] == reference]
    callbacks = (
        await simulator.get(
            "/simulator/callbacks", params={"reference": checkout["checkout_request_id"]}
        )
    ).json()["attempts"]
    sent = min(datetime.fromisoformat(c["started_at"]) for c in callbacks)
    return (datetime.fromisoformat(mail["received_at"]) - sent).total_seconds()


async def run() -> list[float]:
    database_url, redis_url = base_urls()
    target: list[str] = []
    async with (
        scratch_database(database_url, "_notify_bench") as url,
        run_system(
            relay(target),
            gateway={"DATABASE_URL": url, "REDIS_URL": redis_url},
            session_api={"DATABASE_URL": url, "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING"},
        ) as system,
    ):
        served = system.session_api
        assert served is not None
        target.append(f"{served.url}/internal/payment-events")
        gate = asyncio.Semaphore(CONCURRENCY)

        async def bounded(index: int) -> float:
            async with gate:
                return await one_payment(served.client, system.simulator, served, index)

        return list(await asyncio.gather(*(bounded(i) for i in range(PAYMENTS))))


def main() -> None:
    configure_logging(level="WARNING", json=False, service="bench")
    latencies = sorted(asyncio.run(run()))
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(
        f"callback -> confirmation email, {len(latencies)} payments, {CONCURRENCY} at a time: "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        f" (goal: p95 < 5000 ms)"
    )


if __name__ == "__main__":
    main()
