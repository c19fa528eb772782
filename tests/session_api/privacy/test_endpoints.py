"""Erasure's API: who may erase whom, what it answers, and what it refuses. (What an erasure
leaves in the databases is checked on the whole system, in flows/test_erasure.py.)"""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.models import User, UserRole
from tests.session_api.fixtures import PASSWORD, Account, FakeGateway, MakeAccount, deliver


async def erase_me(api: httpx.AsyncClient, who: Account, password: str) -> httpx.Response:
    return await api.request("DELETE", "/v1/me", json={"password": password}, headers=who.headers)


async def deposit(api: httpx.AsyncClient, who: Account) -> str:
    created = await api.post(
        "/v1/wallet/deposits", json={"amount": 100, "phone": "0712000111"}, headers=who.headers
    )
    assert created.status_code == 201, created.text
    attempt_id: str = created.json()["attempt"]["id"]
    return attempt_id


class TestEraseMe:
    async def test_needs_the_password(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account(name="Wanjiku Muthoni")

        refused = await erase_me(api, client, "not my password")

        assert refused.status_code == 403
        assert refused.json()["error"] == "WrongPassword"
        assert gateway.erasures == []
        assert (await api.get("/v1/me", headers=client.headers)).json()["full_name"] == (
            "Wanjiku Muthoni"
        )

    async def test_anonymises_the_account_and_asks_the_gateway_for_its_payments(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
    ) -> None:
        client = await account(name="Wanjiku Muthoni", phone="254712000111")
        attempt_id = await deposit(api, client)
        payment_id = gateway.last_payment()["id"]
        await deliver(api, gateway.paid(payment_id, receipt="SGH4ERASE1"))

        erased = await erase_me(api, client, PASSWORD)

        assert erased.status_code == 200, erased.text
        assert erased.json()["user_id"] == client.id
        assert erased.json()["payments_kept"] == 1
        (asked,) = gateway.erasures
        assert asked["payment_ids"] == [payment_id]
        assert "Wanjiku Muthoni" in asked["redact"]
        user = await db_session.scalar(select(User).where(User.id == client.user.id))
        assert user is not None
        await db_session.refresh(user)
        assert user.full_name == "Erased user"
        assert user.phone is None
        assert user.phone_hash is not None and user.phone_hash.startswith("hmac:")
        assert user.email.endswith("@erased.invalid")
        assert user.is_active is False
        # The payment is kept: id, amount, receipt.
        admin = await account(role=UserRole.admin)
        kept = await api.get(f"/v1/payments/{attempt_id}", headers=admin.headers)
        assert kept.status_code == 200
        assert (kept.json()["amount"], kept.json()["receipt_number"]) == (100, "SGH4ERASE1")
        assert kept.json()["phone"] == "[erased]"

    async def test_refused_while_a_payment_waits_for_the_customer(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        await deposit(api, client)

        refused = await erase_me(api, client, PASSWORD)

        assert refused.status_code == 409
        assert refused.json()["error"] == "ErasureRefused"
        assert gateway.erasures == []

    async def test_nothing_is_erased_while_the_gateway_is_down(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account(name="Achieng Atieno")
        gateway.router.post("/v1/erasures").mock(
            return_value=httpx.Response(503, json={"error": "Down", "detail": "maintenance"})
        )

        refused = await erase_me(api, client, PASSWORD)

        assert refused.status_code == 503
        assert refused.json()["error"] == "ErasureUnavailable"
        assert int(refused.headers["Retry-After"]) > 0
        me = await api.get("/v1/me", headers=client.headers)
        assert me.json()["full_name"] == "Achieng Atieno"


class TestAdminErasure:
    async def test_an_admin_erases_an_account(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        admin = await account(role=UserRole.admin)
        client = await account(name="Kiprono Kosgei")

        erased = await api.delete(f"/v1/admin/users/{client.id}", headers=admin.headers)

        assert erased.status_code == 200, erased.text
        assert (await api.get("/v1/me", headers=client.headers)).status_code == 401
        again = await api.delete(f"/v1/admin/users/{client.id}", headers=admin.headers)
        assert again.status_code == 409
        assert "was erased at" in again.json()["detail"]
        # Who erased whom, by ids only: the trail cannot forget what it holds.
        audited = await api.get(
            "/v1/admin/audit", params={"action": "account.erased"}, headers=admin.headers
        )
        [entry] = audited.json()["items"]
        assert (entry["actor"], entry["subject"]) == (f"user:{admin.id}", f"user:{client.id}")
        assert entry["details"] == {"by": "admin", "payments_kept": 0}
        assert "Kiprono" not in audited.text

    async def test_staff_may_not(self, api: httpx.AsyncClient, account: MakeAccount) -> None:
        staff = await account(role=UserRole.staff)
        client = await account()

        refused = await api.delete(f"/v1/admin/users/{client.id}", headers=staff.headers)

        assert refused.status_code == 403
        assert (await api.get("/v1/me", headers=client.headers)).status_code == 200

    async def test_not_yourself_and_not_nobody(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        admin = await account(role=UserRole.admin)

        yourself = await api.delete(f"/v1/admin/users/{admin.id}", headers=admin.headers)
        nobody = await api.delete(f"/v1/admin/users/{uuid.uuid4()}", headers=admin.headers)

        assert yourself.status_code == 409
        assert "DELETE /v1/me" in yourself.json()["detail"]
        assert nobody.status_code == 404
