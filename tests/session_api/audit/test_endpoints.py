"""What session-api audits (logins with their address, payment initiations, admins reading
payment data, admin actions) and the admin endpoints that list and verify the trail. Each test
in the test's rolled-back transaction."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.audit import service as audit
from session_api.config import Settings
from session_api.models import AuditEntry, Product, UserRole
from shared.audit import schemas as audit_schemas
from tests.session_api.fixtures import (
    PASSWORD,
    PHONE,
    FakeGateway,
    MakeAccount,
    deliver,
    make_settings,
)


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        redis_url,
        AUDIT_CHECKPOINT_FILE=str(tmp_path / "checkpoints.jsonl"),
        AUDIT_ARCHIVE_DIR=str(tmp_path / "archive"),
    )


async def entries(session: AsyncSession, action: str) -> list[AuditEntry]:
    rows = await session.execute(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    )
    return list(rows.scalars())


class TestWhatIsRecorded:
    async def test_a_login_is_recorded_with_the_callers_address(
        self, api: httpx.AsyncClient, account: MakeAccount, db_session: AsyncSession
    ) -> None:
        client = await account()

        response = await api.post(
            "/v1/auth/login", json={"email": client.user.email, "password": PASSWORD}
        )

        assert response.status_code == 200, response.text
        [entry] = await entries(db_session, "auth.login_succeeded")
        assert (entry.actor, entry.subject) == (f"user:{client.id}", f"user:{client.id}")
        assert entry.ip == "127.0.0.1"

    async def test_failed_logins_stay_on_record_although_the_request_fails(
        self, api: httpx.AsyncClient, account: MakeAccount, db_session: AsyncSession
    ) -> None:
        client = await account()

        wrong = await api.post(
            "/v1/auth/login", json={"email": client.user.email, "password": "not it at all"}
        )
        unknown = await api.post(
            "/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever12"}
        )

        assert (wrong.status_code, unknown.status_code) == (401, 401)
        known, stranger = await entries(db_session, "auth.login_failed")
        assert known.actor == f"user:{client.id}" and known.ip == "127.0.0.1"
        assert known.details["known_account"] is True
        assert stranger.actor == "anonymous" and stranger.subject is None
        assert stranger.details == {"email": "n***@example.com", "known_account": False}
        assert client.user.email not in json.dumps(known.details)

    async def test_a_payment_initiation_records_client_payable_amount_and_masked_phone(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
    ) -> None:
        client = await account()

        response = await api.post(
            "/v1/wallet/deposits", json={"amount": 1_500, "phone": PHONE}, headers=client.headers
        )

        assert response.status_code == 201, response.text
        [entry] = await entries(db_session, "payment.initiated")
        assert entry.actor == f"user:{client.id}"
        assert entry.details["client"] == client.id
        assert entry.details["payable_type"] == "deposit"
        assert entry.details["amount"] == 1_500
        assert entry.details["phone"] == "254*****5678"
        assert entry.details["gateway_payment_id"] == gateway.last_payment()["id"]
        assert PHONE[1:] not in json.dumps(entry.details)

    async def test_an_admin_listing_everyones_payments_and_orders_is_recorded_with_filters(
        self, api: httpx.AsyncClient, account: MakeAccount, db_session: AsyncSession
    ) -> None:
        admin = await account(role=UserRole.admin)
        client = await account()

        await api.get("/v1/payments?status=paid&page_size=5", headers=admin.headers)
        await api.get("/v1/orders?status=pending", headers=admin.headers)
        await api.get("/v1/payments", headers=client.headers)  # their own: not audited

        [payments] = await entries(db_session, "payment.listed")
        [orders] = await entries(db_session, "order.listed")
        assert payments.actor == orders.actor == f"user:{admin.id}"
        assert payments.details["filters"]["status"] == ["paid"]
        assert payments.details["page_size"] == 5
        assert orders.details["filters"]["status"] == ["pending"]

    async def test_an_admin_opening_someone_elses_payment_is_recorded(
        self, api: httpx.AsyncClient, account: MakeAccount, db_session: AsyncSession
    ) -> None:
        admin = await account(role=UserRole.admin)
        client = await account()
        deposit = await api.post(
            "/v1/wallet/deposits", json={"amount": 700, "phone": PHONE}, headers=client.headers
        )
        attempt_id = deposit.json()["attempt"]["id"]

        by_owner = await api.get(f"/v1/payments/{attempt_id}", headers=client.headers)
        by_admin = await api.get(f"/v1/payments/{attempt_id}", headers=admin.headers)

        assert (by_owner.status_code, by_admin.status_code) == (200, 200)
        [viewed] = await entries(db_session, "payment.viewed")
        assert viewed.actor == f"user:{admin.id}"
        assert viewed.subject == f"payment_attempt:{attempt_id}"
        assert viewed.details["owner"] == client.id

    async def test_admin_actions_are_recorded(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
    ) -> None:
        admin = await account(role=UserRole.admin)
        created = await api.post(
            "/v1/admin/therapists",
            json={
                "email": "new-therapist@example.com",
                "password": PASSWORD,
                "full_name": "Dr New",
                "session_rate": 3_000,
            },
            headers=admin.headers,
        )
        client = await account()
        product = Product(
            id=uuid.uuid4(),
            sku=f"SKU-{uuid.uuid4().hex[:6]}",
            name="Journal",
            description="",
            price=800,
            is_active=True,
        )
        db_session.add(product)
        await db_session.flush()
        order = (
            await api.post(
                "/v1/orders",
                json={
                    "items": [{"product_id": str(product.id), "quantity": 1}],
                    "delivery": {"method": "pickup"},
                    "customer": {"name": "Amina W", "phone": PHONE, "email": "a@example.com"},
                },
                headers=client.headers,
            )
        ).json()
        await api.post(
            f"/v1/orders/{order['id']}/pay", json={"phone": PHONE}, headers=client.headers
        )
        await deliver(api, gateway.paid(gateway.last_payment()["id"]))
        moved = await api.post(
            f"/v1/admin/orders/{order['id']}/status",
            json={"status": "processing"},
            headers=admin.headers,
        )

        assert created.status_code == 201, created.text
        assert moved.status_code == 200, moved.text
        [therapist] = await entries(db_session, "therapist.created")
        assert therapist.actor == f"user:{admin.id}"
        assert therapist.subject == f"user:{created.json()['id']}"
        [changed] = await entries(db_session, "order.status_changed")
        assert changed.actor == f"user:{admin.id}"
        assert changed.subject == f"order:{order['id']}"
        assert changed.details == {"from": "paid", "to": "processing", "role": "admin"}


class TestAdminEndpoints:
    async def test_admins_list_and_filter_the_trail(
        self, api: httpx.AsyncClient, account: MakeAccount, db_session: AsyncSession
    ) -> None:
        admin = await account(role=UserRole.admin)
        await audit.record(db_session, action="test.one", actor="tester", subject="thing:1")
        await audit.record(db_session, action="test.two", actor="tester", subject="thing:2")
        await audit.record(db_session, action="other.one", actor="someone", subject="thing:1")

        by_action = await api.get("/v1/admin/audit?action=test.*", headers=admin.headers)
        by_subject = await api.get(
            "/v1/admin/audit", params={"subject": "thing:1"}, headers=admin.headers
        )
        by_actor = await api.get(
            "/v1/admin/audit", params={"actor": "someone"}, headers=admin.headers
        )

        assert by_action.status_code == 200, by_action.text
        assert [e["action"] for e in by_action.json()["items"]] == ["test.two", "test.one"]
        assert {e["action"] for e in by_subject.json()["items"]} == {"test.one", "other.one"}
        assert [e["action"] for e in by_actor.json()["items"]] == ["other.one"]
        assert by_action.json()["total"] == 2
        # Reading the trail is on the trail.
        assert len(await entries(db_session, "audit.listed")) == 3

    async def test_a_time_window_filters_and_a_backwards_one_is_refused(
        self, api: httpx.AsyncClient, account: MakeAccount, db_session: AsyncSession
    ) -> None:
        admin = await account(role=UserRole.admin)
        entry = await audit.record(db_session, action="test.timed", actor="tester")
        at = entry.at.isoformat()

        inside = await api.get(
            "/v1/admin/audit", params={"action": "test.timed", "from": at}, headers=admin.headers
        )
        before = await api.get(
            "/v1/admin/audit", params={"action": "test.timed", "to": at}, headers=admin.headers
        )
        backwards = await api.get(
            "/v1/admin/audit", params={"from": at, "to": at}, headers=admin.headers
        )

        assert inside.json()["total"] == 1
        assert before.json()["total"] == 0
        assert backwards.status_code == 400
        assert backwards.json()["error"] == "InvalidAuditFilter"

    @pytest.mark.parametrize("role", [UserRole.client, UserRole.staff, UserRole.therapist])
    async def test_only_admins_read_the_trail(
        self, api: httpx.AsyncClient, account: MakeAccount, role: UserRole
    ) -> None:
        user = await account(role=role)
        for path in ("/v1/admin/audit", "/v1/admin/audit/verify"):
            response = await api.get(path, headers=user.headers)
            assert response.status_code == 403, path

    async def test_verify_reports_both_services(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
        settings: Settings,
    ) -> None:
        admin = await account(role=UserRole.admin)
        await audit.record(db_session, action="test.event", actor="tester")
        await audit.chain(db_session, settings=settings)
        gateways = gateway_report(ok=True)
        gateway.router.get("/v1/audit/verify").mock(return_value=httpx.Response(200, json=gateways))

        response = await api.get("/v1/admin/audit/verify", headers=admin.headers)

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ok"] is True
        assert body["session_api"]["ok"] is True
        assert body["session_api"]["rows_checked"] >= 1
        assert body["gateway"] == gateways
        [verified] = await entries(db_session, "audit.verified")
        assert verified.details["ok"] is True

    async def test_verify_is_not_ok_when_the_gateway_cannot_be_asked(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
    ) -> None:
        admin = await account(role=UserRole.admin)
        gateway.router.get("/v1/audit/verify").mock(return_value=httpx.Response(503))

        body = (await api.get("/v1/admin/audit/verify", headers=admin.headers)).json()

        assert body["ok"] is False
        assert body["gateway"] is None
        assert "could not be verified" in body["gateway_error"]


def gateway_report(*, ok: bool) -> dict[str, Any]:
    return audit_schemas.VerifyReport(
        service="payment_gateway",
        ok=ok,
        rows_checked=3,
        first_seq=1,
        last_seq=3,
        head_hash="ab" * 32,
        unchained=0,
        first_broken=None,
        broken_rows=0,
        checkpoints_checked=1,
        last_checkpoint=None,
        problems=[],
    ).model_dump(mode="json")
