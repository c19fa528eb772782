"""Across the whole API, every non-public route refuses anonymous callers, and
anything belonging to someone else is not found."""

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI

from session_api.models import UserRole
from tests.session_api.fixtures import PHONE, FakeGateway, MakeAccount, approved_booking, deliver

PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/v1/auth/register",
    "/v1/auth/login",
    "/v1/therapists",
    "/v1/therapists/{therapist_id}",
    "/v1/products",
    "/v1/products/{product_id}",
    # What the web app needs before sign-in: test mode, the paybill, amount limits.
    "/v1/config",
    # Authenticated by its signature instead of a token (tests in event/).
    "/internal/payment-events",
    # Africa's Talking's delivery reports: authenticated by the secret token in the path (tests
    # in flows/test_notifications.py).
    "/v1/notifications/sms/reports/{token}",
}

IDS = ("booking_id", "order_id", "deposit_id", "attempt_id", "notification_id", "user_id")


def protected_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path not in PUBLIC
        for method in operations
    )


class TestAuthenticationEverywhere:
    async def test_every_protected_route_is_401_without_a_token(
        self, app: FastAPI, api: httpx.AsyncClient
    ) -> None:
        # Property 50 (004): payment (and every other private) endpoint requires a valid token.
        routes = protected_routes(app)
        assert len(routes) >= 25

        for method, path in routes:
            url = path.format(**dict.fromkeys(IDS, uuid.uuid4()), environment="sandbox")
            response = await api.request(method, url, json={})
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"] == "NotAuthenticated"

    async def test_a_garbage_token_is_401(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/bookings", headers={"Authorization": "Bearer not.a.jwt"})

        assert response.status_code == 401


class TestConcurrentPayments:
    async def test_payments_for_different_bookings_do_not_interfere(
        self, live_api: httpx.AsyncClient, live_account: MakeAccount, gateway: FakeGateway
    ) -> None:
        # Property 54 (004): concurrent payments process independently.
        therapist = await live_account(role=UserRole.therapist)
        clients = [await live_account() for _ in range(4)]
        bookings = [
            await approved_booking(live_api, client, therapist, days=2 + n)
            for n, client in enumerate(clients)
        ]

        attempts = await asyncio.gather(
            *(
                live_api.post(
                    f"/v1/bookings/{booking['id']}/pay",
                    json={"phone": f"07{n}0000001"},
                    headers=client.headers,
                )
                for n, (client, booking) in enumerate(zip(clients, bookings, strict=True))
            )
        )
        payment_ids = [gateway.by_key[f"session-api:booking:{b['id']}:1"] for b in bookings]
        results = await asyncio.gather(
            *(
                deliver(live_api, gateway.paid(pid, receipt=f"SGHCONC{n:03d}"))
                for n, pid in enumerate(payment_ids)
            )
        )

        assert [a.status_code for a in attempts] == [201] * 4
        assert [r.json()["outcome"] for r in results] == ["applied"] * 4
        for n, (client, booking) in enumerate(zip(clients, bookings, strict=True)):
            seen = (
                await live_api.get(f"/v1/bookings/{booking['id']}", headers=client.headers)
            ).json()
            assert (seen["status"], seen["payment"]["receipt_number"]) == (
                "confirmed",
                f"SGHCONC{n:03d}",
            )


@pytest.mark.parametrize("viewer", ["stranger", "other therapist"])
async def test_nothing_of_anothers_is_visible_in_lists(
    api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway, viewer: str
) -> None:
    client = await account()
    therapist = await account(role=UserRole.therapist)
    outsider = await account(role=UserRole.client if viewer == "stranger" else UserRole.therapist)
    booking = await approved_booking(api, client, therapist)
    await api.post(
        f"/v1/bookings/{booking['id']}/pay", json={"phone": PHONE}, headers=client.headers
    )
    await deliver(api, gateway.paid(gateway.last_payment()["id"]))

    for path in ("/v1/bookings", "/v1/payments", "/v1/orders", "/v1/wallet/transactions"):
        listed = (await api.get(path, headers=outsider.headers)).json()
        assert listed["total"] == 0, path
