"""`GET /v1/admin/payments`: each filter, combinations, `q`'s many meanings, sorts and the
cursor, and rows that carry names and the gateway's facts."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from session_api.models import AttemptStatus, Booking, Order, PaymentAttempt, UserRole
from tests.session_api.console.data import BASE, GatewayFacts, Rows
from tests.session_api.fixtures import Account, MakeAccount


async def listed(api: httpx.AsyncClient, staff: Account, **params: Any) -> dict[str, Any]:
    response = await api.get("/v1/admin/payments", params=params, headers=staff.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


@dataclass
class World:
    """Two clients; a booking, an order and a deposit; five attempts an hour apart."""

    attempts: list[PaymentAttempt]
    alice: Account
    bob: Account
    booking: Booking
    order: Order

    def ids(self, *indexes: int) -> list[str]:
        return [str(self.attempts[i].id) for i in indexes]


async def world(rows: Rows, account: MakeAccount) -> World:
    alice = await account(name="Alice Wanjiru")
    bob = await account(name="Bob Otieno")
    therapist = await account(role=UserRole.therapist, name="Dr Grace Mwangi")
    booking = await rows.booking(alice.user, therapist.user, price=2_500)
    order = await rows.order(bob.user, total=1_200)
    deposit = await rows.deposit(alice.user, amount=500)
    at = [BASE + timedelta(hours=i) for i in range(5)]
    attempts = [
        await rows.attempt(
            booking,
            user=alice.user,
            created_at=at[0],
            status=AttemptStatus.failed,
            reason="insufficient_funds",
            phone="254*****1111",
        ),
        await rows.attempt(
            booking,
            user=alice.user,
            created_at=at[1],
            number=2,
            receipt="SKL1ABC234",
            phone="254*****1111",
        ),
        await rows.attempt(
            order,
            user=bob.user,
            created_at=at[2],
            receipt="SKL2DEF567",
            phone="254*****2222",
            environment="production",
        ),
        await rows.attempt(
            deposit,
            user=alice.user,
            created_at=at[3],
            status=AttemptStatus.cancelled,
            reason="customer_cancelled",
            phone="254*****1111",
        ),
        await rows.attempt(
            order, user=bob.user, created_at=at[4], amount=9_000, number=2, phone="254*****3333"
        ),
    ]
    return World(attempts=attempts, alice=alice, bob=bob, booking=booking, order=order)


async def test_rows_carry_names_payables_and_gateway_facts(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    w = await world(rows, account)
    facts.fact(w.attempts[1], verdict="matched", environment="sandbox")
    facts.fact(w.attempts[2], review_reason="amount_mismatch", environment="production")

    page = await listed(api, staff, **{"from": BASE.isoformat()})

    assert ids(page) == w.ids(4, 3, 2, 1, 0)  # newest first
    by_id = {item["id"]: item for item in page["items"]}
    session_row = by_id[str(w.attempts[1].id)]
    assert session_row["client"]["name"] == "Alice Wanjiru"
    assert session_row["paid_for"]["type"] == "booking"
    assert session_row["paid_for"]["therapist_name"] == "Dr Grace Mwangi"
    assert session_row["paid_for"]["summary"].startswith("Session with Dr Grace Mwangi, 2026-11-25")
    assert session_row["receipt_number"] == "SKL1ABC234"
    assert session_row["phone"] == "254*****1111"
    assert session_row["reconciliation_verdict"] == "matched"
    assert session_row["environment"] == "sandbox"
    order_row = by_id[str(w.attempts[2].id)]
    assert order_row["paid_for"]["order_number"] == f"OR{w.order.id.hex[:10].upper()}"
    assert order_row["held_for_review"] == "amount_mismatch"
    failed = by_id[str(w.attempts[0].id)]
    assert (failed["status"], failed["reason"]) == ("failed", "insufficient_funds")
    assert page["gateway_facts"] is True
    sent = json.loads(facts.requests[-1].content)["ids"]
    assert sorted(sent) == sorted(a.gateway_payment_id for a in w.attempts)
    assert facts.requests[-1].headers["X-Acting-User"] == f"user:{staff.id}"


async def test_each_filter_narrows_the_list(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    w = await world(rows, account)
    since = {"from": BASE.isoformat()}

    cases: list[tuple[dict[str, Any], list[int]]] = [
        ({"status": "paid"}, [4, 2, 1]),
        ({"status": ["failed", "cancelled"]}, [3, 0]),
        ({"payable_type": "order"}, [4, 2]),
        ({"payable_type": ["booking", "deposit"]}, [3, 1, 0]),
        ({"from": (BASE + timedelta(hours=2)).isoformat()}, [4, 3, 2]),
        ({"to": (BASE + timedelta(hours=2)).isoformat()}, [1, 0]),
        ({"amount_min": 1_200}, [4, 2, 1, 0]),
        ({"amount_max": 1_200}, [3, 2]),
        ({"environment": "production"}, [2]),
    ]
    for params, expected in cases:
        page = await listed(api, staff, **{**since, **params})
        assert ids(page) == w.ids(*expected), params


async def test_filters_combine(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    w = await world(rows, account)

    page = await listed(
        api,
        staff,
        **{
            "from": BASE.isoformat(),
            "status": "paid",
            "payable_type": "order",
            "amount_max": 5_000,
            "q": "Bob",
        },
    )

    assert ids(page) == w.ids(2)


async def test_q_finds_by_receipt_phone_names_ids_reference_and_checkout(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    w = await world(rows, account)
    facts.phones["254700003333"] = [w.attempts[4].gateway_payment_id]
    since = {"from": BASE.isoformat()}
    order_number = f"OR{w.order.id.hex[:10].upper()}"

    cases: list[tuple[str, list[int]]] = [
        ("skl2def567", [2]),  # receipt, any case
        ("3333", [4]),  # phone's last digits
        ("0700 003 333", [4]),  # a whole phone, any spelling: its payments at the gateway
        ("+254 711 003 333", []),  # same last digits, another phone
        ("wanjiru", [3, 1, 0]),  # client name, in part
        (w.alice.user.email.upper(), [3, 1, 0]),  # client e-mail
        ("grace mwangi", [1, 0]),  # therapist name
        (str(w.booking.id), [1, 0]),  # booking id
        (order_number.lower(), [4, 2]),  # order number
        (str(w.attempts[3].checkout_request_id), [3]),
        (str(w.attempts[2].id), [2]),  # attempt id
        ("100%", []),  # LIKE wildcards are text
    ]
    for q, expected in cases:
        page = await listed(api, staff, q=q, **since)
        assert ids(page) == w.ids(*expected), q


async def test_the_cursor_walks_every_row_once_even_when_times_tie(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    client = await account()
    order = await rows.order(client.user)
    made = [
        await rows.attempt(order, user=client.user, created_at=BASE, number=n, amount=100 + n % 3)
        for n in range(1, 8)
    ]

    for sort in ("newest", "oldest", "amount_desc", "amount_asc"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"from": BASE.isoformat(), "limit": 3, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = await listed(api, staff, **params)
            seen += ids(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(str(a.id) for a in made), sort
        assert len(seen) == len(made)
        amounts = {str(a.id): a.amount for a in made}
        if sort == "amount_desc":
            assert [amounts[i] for i in seen] == sorted(amounts.values(), reverse=True)
        if sort == "amount_asc":
            assert [amounts[i] for i in seen] == sorted(amounts.values())


async def test_a_cursor_of_another_sort_or_forged_is_refused(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    client = await account()
    order = await rows.order(client.user)
    for n in (1, 2):
        await rows.attempt(order, user=client.user, created_at=BASE, number=n)
    page = await listed(api, staff, limit=1, **{"from": BASE.isoformat()})
    forged = base64.urlsafe_b64encode(b'{"s":"newest","k":["x"]}').decode()

    cases: list[tuple[str, str]] = [
        (page["next_cursor"], "amount_asc"),
        (forged, "newest"),
        ("%%", "newest"),
    ]
    for cursor, sort in cases:
        response = await api.get(
            "/v1/admin/payments", params={"cursor": cursor, "sort": sort}, headers=staff.headers
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "InvalidCursor"


async def test_bad_filters_are_refused_naming_what_is_accepted(
    api: httpx.AsyncClient, staff: Account
) -> None:
    cases: list[dict[str, str | int]] = [
        {"from": "2026-12-02T00:00:00+03:00", "to": "2026-12-01T00:00:00+03:00"},
        {"amount_min": 500, "amount_max": 100},
    ]
    for params in cases:
        response = await api.get("/v1/admin/payments", params=params, headers=staff.headers)
        assert response.status_code == 400, params
        assert response.json()["error"] == "InvalidFilter"
    naive = await api.get(
        "/v1/admin/payments", params={"from": "2026-12-01T00:00:00"}, headers=staff.headers
    )
    assert naive.status_code == 422


async def test_a_whole_phone_falls_back_to_its_masked_form_without_the_gateway(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    w = await world(rows, account)
    facts.gateway.router.get("/v1/payments").mock(side_effect=httpx.ConnectError("refused"))

    page = await listed(api, staff, q="0711 003 333", **{"from": BASE.isoformat()})

    assert ids(page) == w.ids(4)  # 254*****3333: the best session-api alone can do


async def test_rows_still_list_when_the_gateway_is_down(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    w = await world(rows, account)
    facts.gateway.router.post("/v1/console/payments/facts").mock(
        return_value=httpx.Response(503, json={"error": "Down", "detail": "maintenance"})
    )

    page = await listed(api, staff, **{"from": BASE.isoformat()})

    assert ids(page) == w.ids(4, 3, 2, 1, 0)
    assert page["gateway_facts"] is False
    assert page["items"][2]["environment"] == "production"  # what session-api recorded


async def test_a_checkout_id_shows_the_payers_number_masked(
    api: httpx.AsyncClient, staff: Account, rows: Rows, account: MakeAccount, facts: GatewayFacts
) -> None:
    client = await account()
    order = await rows.order(client.user)
    checkout = "ws_CO_01122026124319564712341234"  # Daraja's: a time, then 712341234
    await rows.attempt(order, user=client.user, created_at=BASE, checkout=checkout)

    found = await listed(api, staff, q=checkout)

    [row] = found["items"]
    assert row["checkout_request_id"] == "ws_CO_01122026124319564*****1234"
