import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.main import create_app
from session_api.models import PaymentAttempt, WalletDeposit
from shared.testing import open_asgi_client
from tests.session_api.fixtures import (
    PHONE,
    FakeGateway,
    MakeAccount,
    deliver,
    make_account,
    make_settings,
)


class TestDeposit:
    async def test_pays_on_creation_and_credits_the_wallet_when_paid(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()

        response = await api.post(
            "/v1/wallet/deposits", json={"amount": 1_000, "phone": PHONE}, headers=client.headers
        )
        deposit = response.json()
        await deliver(api, gateway.paid(gateway.last_payment()["id"], receipt="SGHWALLET1"))

        assert response.status_code == 201, response.text
        assert deposit["status"] == "processing"
        assert (
            deposit["attempt"]["customer_message"] == "Check your phone and enter your M-Pesa PIN"
        )
        assert gateway.creates[-1].headers["Idempotency-Key"] == (
            f"session-api:deposit:{deposit['id']}:1"
        )
        wallet = (await api.get("/v1/wallet", headers=client.headers)).json()
        assert (wallet["balance"], wallet["currency"]) == (1_000, "KES")
        seen = (
            await api.get(f"/v1/wallet/deposits/{deposit['id']}", headers=client.headers)
        ).json()
        assert (seen["status"], seen["receipt_number"]) == ("paid", "SGHWALLET1")
        ledger = (await api.get("/v1/wallet/ledger", headers=client.headers)).json()["items"]
        assert [(e["kind"], e["amount"], e["balance_after"]) for e in ledger] == [
            ("deposit", 1_000, 1_000)
        ]

    async def test_a_cancelled_deposit_credits_nothing(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        deposit = (
            await api.post(
                "/v1/wallet/deposits", json={"amount": 500, "phone": PHONE}, headers=client.headers
            )
        ).json()

        await deliver(api, gateway.cancelled(gateway.last_payment()["id"]))

        seen = (
            await api.get(f"/v1/wallet/deposits/{deposit['id']}", headers=client.headers)
        ).json()
        assert (seen["status"], seen["reason"]) == ("cancelled", "customer_cancelled")
        assert (await api.get("/v1/wallet", headers=client.headers)).json()["balance"] == 0

    @pytest.mark.parametrize(
        ("body", "status", "named"),
        [
            ({"amount": 0, "phone": PHONE}, 422, "amount"),
            ({"amount": 10.5, "phone": PHONE}, 422, "amount"),
            ({"amount": "100", "phone": PHONE}, 422, "amount"),
            ({"amount": True, "phone": PHONE}, 422, "amount"),
            ({"amount": -5, "phone": PHONE}, 422, "amount"),
            ({"amount": 5, "phone": PHONE}, 400, "amount"),
            ({"amount": 250_001, "phone": PHONE}, 400, "amount"),
            ({"amount": 100, "phone": "0912345678"}, 422, "phone"),
            ({"amount": 100}, 422, "phone"),
            ({"amount": 100, "phone": PHONE, "currency": "USD"}, 422, "currency"),
            ({"amount": 2**63, "phone": PHONE}, 422, "amount"),
        ],
    )
    async def test_bad_input_names_the_field_and_makes_nothing(
        self,
        api: httpx.AsyncClient,
        account: MakeAccount,
        gateway: FakeGateway,
        db_session: AsyncSession,
        body: dict[str, object],
        status: int,
        named: str,
    ) -> None:
        client = await account()

        response = await api.post("/v1/wallet/deposits", json=body, headers=client.headers)

        assert response.status_code == status, response.text
        assert response.json()["detail"].startswith(named)
        assert gateway.creates == []
        assert await db_session.scalar(select(func.count()).select_from(WalletDeposit)) == 0

    @pytest.mark.parametrize("minimum", [None, 50])
    async def test_the_documented_minimum_is_the_one_enforced(
        self,
        database_url: str,
        redis_url: str,
        db_session: AsyncSession,
        gateway: FakeGateway,
        minimum: int | None,
    ) -> None:
        overrides = {} if minimum is None else {"DEPOSIT_MIN_KES": minimum}
        settings = make_settings(database_url, redis_url, **overrides)
        app = create_app(settings, gateway=gateway.client())
        documented = app.openapi()["components"]["schemas"]["DepositRequest"]["properties"]
        lowest = documented["amount"]["minimum"]
        client = await make_account(db_session, settings)

        async with open_asgi_client(app, session=db_session) as api:
            below = await api.post(
                "/v1/wallet/deposits",
                json={"amount": lowest - 1, "phone": PHONE},
                headers=client.headers,
            )
            at = await api.post(
                "/v1/wallet/deposits",
                json={"amount": lowest, "phone": PHONE},
                headers=client.headers,
            )

        assert lowest == settings.DEPOSIT_MIN_KES
        assert documented["amount"]["maximum"] == settings.PAYMENT_MAX_KES
        assert below.status_code == 400
        assert f"between {lowest} and" in below.json()["detail"]
        assert at.status_code == 201, at.text

    async def test_gateway_down_leaves_no_deposit_and_no_attempt(
        self,
        app: FastAPI,
        live_api: httpx.AsyncClient,
        live_account: MakeAccount,
        gateway: FakeGateway,
    ) -> None:
        # Committing sessions: the deposit row is written before the gateway is called, and the
        # request's rollback is what must remove it.
        client = await live_account()
        gateway.outage = httpx.ConnectError("refused")

        response = await live_api.post(
            "/v1/wallet/deposits", json={"amount": 100, "phone": PHONE}, headers=client.headers
        )

        assert response.status_code == 503
        assert "Retry-After" in response.headers
        async with app.state.sessionmaker() as session:
            for model in (WalletDeposit, PaymentAttempt):
                assert await session.scalar(select(func.count()).select_from(model)) == 0

    async def test_someone_elses_deposit_is_404(
        self, api: httpx.AsyncClient, account: MakeAccount
    ) -> None:
        client = await account()
        stranger = await account()
        deposit = (
            await api.post(
                "/v1/wallet/deposits", json={"amount": 100, "phone": PHONE}, headers=client.headers
            )
        ).json()

        response = await api.get(f"/v1/wallet/deposits/{deposit['id']}", headers=stranger.headers)

        assert response.status_code == 404
        assert (await api.get("/v1/wallet", headers=stranger.headers)).json()["balance"] == 0


class TestHistory:
    async def test_transactions_filter_by_status_and_date_and_page(
        self, api: httpx.AsyncClient, account: MakeAccount, gateway: FakeGateway
    ) -> None:
        client = await account()
        for amount, outcome in [(100, "paid"), (200, "cancelled"), (300, "paid"), (400, None)]:
            await api.post(
                "/v1/wallet/deposits",
                json={"amount": amount, "phone": PHONE},
                headers=client.headers,
            )
            payment_id = gateway.last_payment()["id"]
            if outcome == "paid":
                await deliver(api, gateway.paid(payment_id, receipt=f"SGH{amount:07d}"))
            elif outcome == "cancelled":
                await deliver(api, gateway.cancelled(payment_id))

        everything = (await api.get("/v1/wallet/transactions", headers=client.headers)).json()
        paid = (
            await api.get(
                "/v1/wallet/transactions", params={"status": "paid"}, headers=client.headers
            )
        ).json()
        open_or_cancelled = (
            await api.get(
                "/v1/wallet/transactions",
                params=[("status", "processing"), ("status", "cancelled")],
                headers=client.headers,
            )
        ).json()
        future_only = (
            await api.get(
                "/v1/wallet/transactions",
                params={"created_from": "2999-01-01T00:00:00Z"},
                headers=client.headers,
            )
        ).json()
        before_2999 = (
            await api.get(
                "/v1/wallet/transactions",
                params={"created_to": "2999-01-01T00:00:00Z", "page_size": 3, "page": 2},
                headers=client.headers,
            )
        ).json()
        bad_status = await api.get(
            "/v1/wallet/transactions", params={"status": "done"}, headers=client.headers
        )

        assert [d["amount"] for d in everything["items"]] == [400, 300, 200, 100]
        assert sorted(d["amount"] for d in paid["items"]) == [100, 300]
        assert sorted(d["amount"] for d in open_or_cancelled["items"]) == [200, 400]
        assert future_only["total"] == 0
        assert (before_2999["total"], len(before_2999["items"])) == (4, 1)
        assert bad_status.status_code == 422
        wallet = (await api.get("/v1/wallet", headers=client.headers)).json()
        ledger = (await api.get("/v1/wallet/ledger", headers=client.headers)).json()
        assert wallet["balance"] == 400 == sum(e["amount"] for e in ledger["items"])
        assert [e["balance_after"] for e in ledger["items"]] == [400, 100]
