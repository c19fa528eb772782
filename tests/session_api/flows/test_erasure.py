"""Acceptance 4 of issue 13: after an erasure no name, e-mail address or phone of that account
appears in any table of either service (every text, JSON and byte column scanned), and the wallet
and payment totals are what they were. Paid through the real gateway and Daraja simulator, so the
gateway's stored callbacks carry the phone as Daraja sends it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import UserRole
from session_api.product import service as product_service
from session_api.user import service as user_service
from tests.session_api.fixtures import PASSWORD, Account, future
from tests.session_api.flows.flow import Flow, phone

# Column types that can hold a name, an address or a number written out.
SCANNED_TYPES = ("text", "character varying", "json", "jsonb", "bytea", "ARRAY")


async def scan(session: AsyncSession, needles: list[str]) -> list[str]:
    """`schema.table.column: needle` for every column of either service holding a needle."""
    columns = (
        await session.execute(
            text(
                "SELECT table_schema, table_name, column_name, data_type "
                "FROM information_schema.columns "
                "WHERE table_schema IN ('sessions', 'gateway') AND data_type = ANY(:types) "
                "AND table_name <> 'alembic_version'"
            ),
            {"types": list(SCANNED_TYPES)},
        )
    ).all()
    assert len(columns) > 40, columns
    found = []
    for schema, table, column, data_type in columns:
        as_text = (
            f"convert_from(\"{column}\", 'UTF8')" if data_type == "bytea" else f'"{column}"::text'
        )
        for needle in needles:
            hits = await session.scalar(
                text(
                    f'SELECT count(*) FROM "{schema}"."{table}" '  # noqa: S608 (names from the catalogue)
                    f"WHERE strpos(lower({as_text}), lower(:needle)) > 0"
                ),
                {"needle": needle},
            )
            if hits:
                found.append(f"{schema}.{table}.{column}: {needle}")
    return found


async def register(flow: Flow, *, name: str, email: str, number: str) -> Account:
    created = await flow.api.post(
        "/v1/auth/register",
        json={"email": email, "password": PASSWORD, "full_name": name, "phone": number},
    )
    assert created.status_code == 201, created.text
    token = await flow.api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    async with flow.session_api.state.sessionmaker() as session:
        user = await user_service.get_by_email(session, email=email)
    assert user is not None
    return Account(user=user, token=token.json()["access_token"])


async def paid(flow: Flow, payer: Account, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await flow.api.post(path, json=body, headers=payer.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    attempt_id = created["attempt"]["id"] if "attempt" in created else created["id"]
    await flow.settled(attempt_id, payer)
    await flow.refresh()
    attempt = await flow.attempt(attempt_id, payer)
    assert attempt["status"] == "paid", attempt
    return attempt


async def totals(flow: Flow, user_id: str) -> dict[str, Any]:
    async with flow.session_api.state.sessionmaker() as session:
        sessions_side = (
            await session.execute(
                text(
                    "SELECT (SELECT balance FROM sessions.wallet WHERE user_id = :u), "
                    "(SELECT coalesce(sum(amount), 0) FROM sessions.wallet_ledger_entry e "
                    " JOIN sessions.wallet w ON w.id = e.wallet_id WHERE w.user_id = :u), "
                    "(SELECT array_agg(id::text || ':' || amount || ':' "
                    " || coalesce(receipt_number, '') || ':' || created_at ORDER BY id) "
                    " FROM sessions.payment_attempt "
                    " WHERE user_id = :u)"
                ),
                {"u": user_id},
            )
        ).one()
        gateway_side = (
            await session.execute(
                text(
                    "SELECT array_agg(id::text || ':' || amount || ':' || status || ':' "
                    "|| coalesce(receipt_number, '') || ':' || created_at ORDER BY id) "
                    "FROM gateway.payment WHERE metadata->>'user_id' = :u"
                ),
                {"u": user_id},
            )
        ).scalar_one()
    return {"sessions": tuple(sessions_side), "gateway": gateway_side}


class TestErasure:
    async def test_nothing_of_the_person_is_left_and_the_money_adds_up(self, flow: Flow) -> None:
        tag = uuid.uuid4().hex[:6]
        name, email = f"Zawadi Kerubo{tag}", f"zawadi.{tag}@example.com"
        own_phone, other_phone = phone(), phone()
        client = await register(flow, name=name, email=email, number=own_phone)
        therapist = await flow.account(UserRole.therapist, rate=2_000)
        async with flow.session_api.state.sessionmaker() as session, session.begin():
            await product_service.ensure_product(
                session, sku="JOURNAL", name="Journal", description="", price=1_200
            )
        # A booking with notes naming her, paid from her own phone.
        booking = await flow.api.post(
            "/v1/bookings",
            json={
                "therapist_id": therapist.id,
                "scheduled_at": future(),
                "notes": f"I am {name}, call me on {own_phone} or write to {email}",
            },
            headers=client.headers,
        )
        assert booking.status_code == 201, booking.text
        approved = await flow.api.post(
            f"/v1/bookings/{booking.json()['id']}/approve", headers=therapist.headers
        )
        assert approved.status_code == 200, approved.text
        await paid(flow, client, f"/v1/bookings/{booking.json()['id']}/pay", {"phone": own_phone})
        # A deposit from another phone, and an order with her delivery details.
        await paid(flow, client, "/v1/wallet/deposits", {"amount": 700, "phone": other_phone})
        products = (await flow.api.get("/v1/products")).json()["items"]
        order = await flow.api.post(
            "/v1/orders",
            json={
                "items": [{"product_id": products[0]["id"], "quantity": 1}],
                "delivery": {"method": "delivery", "address": "7 Ngong Road", "city": "Nairobi"},
                "customer": {"name": name, "phone": other_phone, "email": email},
            },
            headers=client.headers,
        )
        assert order.status_code == 201, order.text
        await paid(flow, client, f"/v1/orders/{order.json()['id']}/pay", {"phone": own_phone})
        needles = [
            name,
            email,
            *(f"{p[1:]}" for p in (own_phone, other_phone)),  # 7XXXXXXXX: in every spelling
            "7 Ngong Road",
        ]
        async with flow.session_api.state.sessionmaker() as session:
            # The scan finds what is there before the erasure: it can fail.
            assert len(await scan(session, needles)) >= 10
        before = await totals(flow, client.id)

        erased = await flow.api.request(
            "DELETE", "/v1/me", json={"password": PASSWORD}, headers=client.headers
        )

        assert erased.status_code == 200, erased.text
        assert erased.json()["payments_kept"] == 3
        async with flow.session_api.state.sessionmaker() as session:
            left = await scan(session, needles)
            assert left == [], "\n".join(left)
            hashed = await session.scalar(
                text(
                    "SELECT count(*) FROM gateway.payment WHERE phone LIKE 'hmac:%' "
                    "AND metadata->>'user_id' = :u"
                ),
                {"u": client.id},
            )
            account = (
                await session.execute(
                    text(
                        "SELECT phone_hash, erased_at, is_active FROM sessions.user_account "
                        "WHERE id = :u"
                    ),
                    {"u": client.id},
                )
            ).one()
            erasures = (
                await session.execute(
                    text(
                        "SELECT 'sessions' AS trail, actor, subject FROM sessions.audit_entry "
                        "WHERE action = 'account.erased' UNION ALL "
                        "SELECT 'gateway', actor, details::text FROM gateway.audit_entry "
                        "WHERE action = 'payer.erased'"
                    )
                )
            ).all()
        assert hashed == 3
        # Both trails record the erasure, by ids (the scan above proves they hold nothing erased).
        assert {(row.trail, row.actor) for row in erasures} >= {("sessions", f"user:{client.id}")}
        assert [row.subject for row in erasures if row.trail == "sessions"] == [f"user:{client.id}"]
        assert any(row.trail == "gateway" for row in erasures)
        assert account.phone_hash.startswith("hmac:") and account.erased_at is not None
        assert account.is_active is False
        after = await totals(flow, client.id)
        assert after == before
        assert before["sessions"][0] == 700
        # The account cannot be used any more; the therapist still sees the paid booking.
        assert (await flow.api.get("/v1/me", headers=client.headers)).status_code == 401
        login = await flow.api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 401
        seen = await flow.api.get(f"/v1/bookings/{booking.json()['id']}", headers=therapist.headers)
        assert seen.status_code == 200
        assert seen.json()["status"] == "confirmed"

    async def test_refused_while_a_payment_is_in_flight(self, flow: Flow) -> None:
        client = await flow.account(name=f"Baraka Otieno{uuid.uuid4().hex[:6]}")
        number = phone()
        await flow.simulator.put(
            f"/simulator/behaviours/254{number[1:]}", json={"behaviour": "manual"}
        )
        created = await flow.api.post(
            "/v1/wallet/deposits", json={"amount": 500, "phone": number}, headers=client.headers
        )
        assert created.status_code == 201, created.text

        refused = await flow.api.request(
            "DELETE", "/v1/me", json={"password": PASSWORD}, headers=client.headers
        )

        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "ErasureRefused"
        assert "in flight" in refused.json()["detail"]
        still = await flow.api.get("/v1/me", headers=client.headers)
        assert still.status_code == 200
        assert still.json()["full_name"] == client.user.full_name
        async with flow.session_api.state.sessionmaker() as session:
            assert (
                await session.scalar(
                    text("SELECT count(*) FROM gateway.payment WHERE phone = :p"),
                    {"p": "254" + number[1:]},
                )
                == 1
            )
