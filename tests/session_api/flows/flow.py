"""Whole flows over loopback on the shared harness (``shared.testing.system``): the Daraja
simulator, the payment gateway (its API and its arq worker in this event loop) and session-api.
The gateway's events reach session-api through a :class:`Relay` that can deliver each one several
times at once. :class:`Flow` adds what session-api's flow tests ask of the running system."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

from session_api.config import Settings
from session_api.event.tasks import refresh_stale_attempts
from session_api.models import NotificationDelivery, UserRole
from session_api.notification.repository import DeliveryRepository
from shared.testing import system as harness
from shared.testing.system import EVENT_SECRET, SERVICE_KEY, phone
from shared.testing.waiting import WAIT_S
from shared.testing.waiting import wait_until as until
from tests.session_api.fixtures import Account, make_account

__all__ = [
    "EVENT_SECRET",
    "SERVICE_KEY",
    "Flow",
    "FlowFactory",
    "Relay",
    "open_flow",
    "phone",
    "until",
]

# A prompt left for a person (the `manual` behaviour) stays open 5 s at the harness's time scale.
SIMULATOR_SETTINGS: dict[str, Any] = {"PROMPT_WINDOW_S": 500, "SEED": 11}


@dataclass
class Relay:
    """Stands between the gateway and session-api: forwards each signed event unchanged,
    `copies` times at once (an at-least-once sender at its worst), and answers with the first
    response."""

    target: str = ""
    copies: int = 1
    forwarded: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post(harness.EVENTS_PATH)
        async def relay(request: Request) -> Response:
            body = await request.body()
            headers = {
                name: request.headers[name]
                for name in ("content-type", "webhook-id", "webhook-timestamp", "webhook-signature")
            }
            async with httpx.AsyncClient(timeout=30) as http:
                responses = await asyncio.gather(
                    *(
                        http.post(self.target, content=body, headers=headers)
                        for _ in range(self.copies)
                    )
                )
            self.forwarded.append(json.loads(body))
            self.answers.extend(r.status_code for r in responses)
            first = responses[0]
            return Response(status_code=first.status_code, content=first.content)

        return app


@dataclass
class Flow:
    api: httpx.AsyncClient
    simulator: httpx.AsyncClient
    gateway: httpx.AsyncClient
    relay: Relay
    session_api: FastAPI
    settings: Settings

    async def account(self, role: UserRole = UserRole.client, **kwargs: Any) -> Account:
        async with self.session_api.state.sessionmaker() as session, session.begin():
            return await make_account(session, self.settings, role=role, **kwargs)

    async def attempt(self, attempt_id: str, viewer: Account) -> dict[str, Any]:
        response = await self.api.get(f"/v1/payments/{attempt_id}", headers=viewer.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def settled(
        self, attempt_id: str, viewer: Account, *, within: float = WAIT_S
    ) -> dict[str, Any]:
        async def final() -> dict[str, Any] | None:
            attempt = await self.attempt(attempt_id, viewer)
            if attempt["status"] == "processing":
                return None
            # A poll can prove a payment before its callback (and receipt) is verified; the
            # receipt then follows in a later event. Settled means both have arrived.
            if attempt["status"] == "paid" and not attempt["receipt_number"]:
                return None
            return attempt

        result: dict[str, Any] = await until(final, within=within, what=f"{attempt_id} to settle")
        return result

    async def refresh(self) -> int:
        """Run session-api's worker job that reads overdue attempts back from the gateway."""
        ctx = {
            "settings": self.settings,
            "sessionmaker": self.session_api.state.sessionmaker,
            "redis": self.session_api.state.arq,
            "gateway": self.session_api.state.gateway,
        }
        changed: int = await refresh_stale_attempts(ctx)
        return changed

    async def emails(self, to: str) -> list[dict[str, Any]]:
        """The emails the simulator's SMTP server took for ``to``, newest first."""
        response = await self.simulator.get("/simulator/emails", params={"to": to})
        assert response.status_code == 200, response.text
        emails: list[dict[str, Any]] = response.json()["emails"]
        return emails

    async def email(self, to: str, subject: str, *, within: float = WAIT_S) -> dict[str, Any]:
        """The one email to ``to`` whose subject starts with ``subject``, once it has arrived."""

        async def arrived() -> dict[str, Any] | None:
            found = [e for e in await self.emails(to) if e["subject"].startswith(subject)]
            assert len(found) <= 1, f"{len(found)} emails '{subject}' to {to}"
            return found[0] if found else None

        email: dict[str, Any] = await until(arrived, within=within, what=f"'{subject}' to {to}")
        return email

    async def sms(self, to: str) -> list[dict[str, Any]]:
        """The SMS the simulator's provider took for ``to`` (+2547…), newest first."""
        response = await self.simulator.get("/simulator/sms", params={"to": to})
        assert response.status_code == 200, response.text
        messages: list[dict[str, Any]] = response.json()["messages"]
        return messages

    async def deliveries(self, user_id: str) -> list[NotificationDelivery]:
        """The user's rows in session-api's notification outbox, newest first."""
        async with self.session_api.state.sessionmaker() as session:
            rows = await DeliveryRepository.from_session(session).for_user(uuid.UUID(user_id))
            return list(rows)

    async def ledger(self) -> list[dict[str, Any]]:
        response = await self.simulator.get("/simulator/ledger")
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["entries"]
        return entries


FlowFactory = Callable[..., contextlib.AbstractAsyncContextManager[Flow]]


@contextlib.asynccontextmanager
async def open_flow(
    database_url: str,
    redis_url: str,
    *,
    simulator: dict[str, Any] | None = None,
    gateway: dict[str, Any] | None = None,
    session_api: dict[str, Any] | None = None,
) -> AsyncIterator[Flow]:
    """The whole system with these setting overrides, session-api reading events at once."""
    relay = Relay()
    async with harness.run_system(
        relay.app(),
        simulator={**SIMULATOR_SETTINGS, **(simulator or {})},
        gateway=gateway,
        session_api={
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "RECEIPT_BACKFILL_AFTER_S": 0,
            **(session_api or {}),
        },
    ) as running:
        served = running.session_api
        assert served is not None
        relay.target = f"{served.url}/internal/payment-events"
        yield Flow(
            api=served.client,
            simulator=running.simulator,
            gateway=running.gateway,
            relay=relay,
            session_api=served.app,
            settings=served.settings,
        )
