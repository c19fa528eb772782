import httpx
from fastapi import FastAPI
from sqlalchemy import update

from session_api.config import Settings
from session_api.models import Wallet
from session_api.wallet.tasks import WALLET_MISMATCHES, check_consistency
from tests.session_api.fixtures import PHONE, FakeGateway, MakeAccount, deliver


class TestCheckConsistency:
    async def test_counts_wallets_whose_balance_left_the_ledger(
        self,
        app: FastAPI,
        live_api: httpx.AsyncClient,
        live_account: MakeAccount,
        gateway: FakeGateway,
        settings: Settings,
    ) -> None:
        client = await live_account()
        await live_api.post(
            "/v1/wallet/deposits", json={"amount": 300, "phone": PHONE}, headers=client.headers
        )
        await deliver(live_api, gateway.paid(gateway.last_payment()["id"]))
        ctx = {"settings": settings, "sessionmaker": app.state.sessionmaker, "redis": None}

        assert await check_consistency(ctx) == 0
        async with app.state.sessionmaker() as session, session.begin():
            await session.execute(update(Wallet).values(balance=Wallet.balance + 1))

        assert await check_consistency(ctx) == 1
        assert WALLET_MISMATCHES._value.get() == 1
