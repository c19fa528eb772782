"""Staff reading payment data is on the audit trail: the console's list (with its filters), one
payment, the export (its filters and row count), the stats and the risk flags. Read back through
the admin's audit list; a searched name, e-mail address or phone is never written there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from session_api.console.service import audited_query
from session_api.models import AttemptStatus, UserRole
from tests.session_api.console.data import BASE, GatewayFacts, Rows
from tests.session_api.console.test_detail import STATS, WINDOW, entry
from tests.session_api.fixtures import Account, MakeAccount


@pytest.fixture
async def admin(account: MakeAccount) -> Account:
    return await account(role=UserRole.admin)


async def audited(api: httpx.AsyncClient, admin: Account, action: str) -> list[dict[str, Any]]:
    """The entries of one action, oldest first."""
    response = await api.get("/v1/admin/audit", params={"action": action}, headers=admin.headers)
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


async def test_a_filtered_list_is_recorded_with_its_filters_and_no_searched_email(
    api: httpx.AsyncClient,
    staff: Account,
    admin: Account,
    rows: Rows,
    account: MakeAccount,
    facts: GatewayFacts,
) -> None:
    client = await account(name="Wanjiru Kamau")
    order = await rows.order(client.user)
    await rows.attempt(order, user=client.user, created_at=BASE)

    response = await api.get(
        "/v1/admin/payments",
        params={"status": "paid", "amount_min": 100, "q": client.user.email},
        headers=staff.headers,
    )

    assert response.status_code == 200, response.text
    [listed] = await audited(api, admin, "payment.listed")
    assert listed["actor"] == f"user:{staff.id}"
    assert listed["details"]["view"] == "console"
    assert listed["details"]["role"] == "staff"
    assert listed["details"]["filters"] == {
        "statuses": ["paid"],
        "amount_min": 100,
        "q": {"text_length": len(client.user.email)},
    }
    assert listed["details"]["shown"] == len(response.json()["items"]) == 1
    assert client.user.email not in str(listed)


async def test_opening_a_payment_records_which_and_names_staff_on_its_timeline(
    api: httpx.AsyncClient,
    staff: Account,
    admin: Account,
    rows: Rows,
    account: MakeAccount,
    facts: GatewayFacts,
) -> None:
    client = await account(name="Otieno Odhiambo")
    reviewer = await account(role=UserRole.staff, name="Rita Reviewer")
    order = await rows.order(client.user)
    attempt = await rows.attempt(order, user=client.user, created_at=BASE)
    facts.timelines[attempt.gateway_payment_id] = {
        "entries": [
            entry(
                "2026-11-20T09:10:00Z",
                "staff_action",
                "review accepted",
                actor=f"admin:user:{reviewer.id}",
            )
        ]
    }

    response = await api.get(f"/v1/admin/payments/{attempt.id}", headers=staff.headers)

    assert response.status_code == 200, response.text
    names = [(e["kind"], e["actor_name"]) for e in response.json()["timeline"]]
    assert names == [("attempt", "Otieno Odhiambo"), ("staff_action", "Rita Reviewer")]
    [viewed] = await audited(api, admin, "payment.viewed")
    assert (viewed["actor"], viewed["subject"]) == (
        f"user:{staff.id}",
        f"payment_attempt:{attempt.id}",
    )
    assert viewed["details"]["owner"] == client.id
    assert viewed["details"]["payable_id"] == str(order.id)


async def test_an_export_is_recorded_before_its_rows_and_with_their_count(
    api: httpx.AsyncClient,
    staff: Account,
    admin: Account,
    rows: Rows,
    account: MakeAccount,
    facts: GatewayFacts,
) -> None:
    client = await account()
    order = await rows.order(client.user)
    attempts = [
        await rows.attempt(
            order,
            user=client.user,
            created_at=BASE + timedelta(minutes=minutes),
            number=minutes + 1,
            status=AttemptStatus.failed,
        )
        for minutes in range(3)
    ]
    facts.phones["254712345678"] = [a.gateway_payment_id for a in attempts]

    response = await api.get(
        "/v1/admin/payments/export.csv",
        params={"status": "failed", "from": BASE.isoformat(), "q": "0712345678"},
        headers=staff.headers,
    )

    assert response.status_code == 200, response.text
    [started] = await audited(api, admin, "payment.export_started")
    [finished] = await audited(api, admin, "payment.exported")
    assert started["actor"] == finished["actor"] == f"user:{staff.id}"
    assert started["details"]["filters"]["statuses"] == ["failed"]
    assert started["details"]["filters"]["q"] == {"phone": "254*****5678"}
    assert finished["details"]["filters"] == started["details"]["filters"]
    assert finished["details"]["rows"] == len(response.text.splitlines()) - 1 == 3
    assert "712345678" not in str([started, finished])


async def test_stats_and_risk_flags_are_recorded(
    api: httpx.AsyncClient, staff: Account, admin: Account, facts: GatewayFacts
) -> None:
    facts.stats = STATS

    stats = await api.get("/v1/admin/stats", params=WINDOW, headers=staff.headers)
    flags = await api.get(
        "/v1/admin/risk-flags", params={"kind": "failed_payments_on_phone"}, headers=staff.headers
    )

    assert (stats.status_code, flags.status_code) == (200, 200), flags.text
    [viewed] = await audited(api, admin, "payment.stats_viewed")
    assert viewed["actor"] == f"user:{staff.id}"
    assert (viewed["details"]["from"], viewed["details"]["granularity"]) == (
        WINDOW["from"],
        "day",
    )
    [listed] = await audited(api, admin, "risk_flag.listed")
    assert listed["actor"] == f"user:{staff.id}"
    assert listed["details"]["filters"] == {"kind": "failed_payments_on_phone"}


@pytest.mark.parametrize(
    ("q", "kept"),
    [
        ("SKL1ABC234", {"receipt": "SKL1ABC234"}),
        ("wanjikumwa", {"text_length": 10}),  # ten letters: a name, not a receipt
        ("0712345678", {"phone": "254*****5678"}),
        ("5678", {"phone_suffix": "5678"}),
        ("amina@example.com", {"text_length": 17}),
        ("OR1A2B", {"reference": "order:1a2b"}),
        ("Orca", {"text_length": 4}),  # a name that reads as an order reference
    ],
)
def test_a_searched_text_is_kept_only_as_what_it_was(q: str, kept: dict[str, Any]) -> None:
    assert audited_query(q) == kept
