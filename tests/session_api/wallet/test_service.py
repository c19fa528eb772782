import asyncio
import uuid

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from session_api.config import Settings
from session_api.models import LedgerEntryKind, Wallet
from session_api.wallet import service as wallet_service
from tests.session_api.fixtures import MakeAccount


async def credit(session: AsyncSession, user_id: uuid.UUID, amount: int, key: str) -> bool:
    return await wallet_service.credit(
        session,
        user_id=user_id,
        amount=amount,
        kind=LedgerEntryKind.deposit,
        entry_key=key,
        description="test credit",
    )


class TestCredit:
    @given(
        credits=st.lists(
            st.tuples(st.integers(min_value=1, max_value=250_000), st.integers(0, 5)),
            min_size=1,
            max_size=12,
        )
    )
    @hypothesis_settings(
        max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    async def test_the_balance_is_always_the_sum_of_distinct_keys(
        self, db_session: AsyncSession, account: MakeAccount, credits: list[tuple[int, int]]
    ) -> None:
        # Any sequence of credits, keys repeating: each key counts once, and balance = ledger sum.
        user = (await account()).user
        first_amount_by_key: dict[int, int] = {}
        for amount, key in credits:
            applied = await credit(db_session, user.id, amount, f"payment:{user.id}:{key}")
            assert applied == (key not in first_amount_by_key)
            first_amount_by_key.setdefault(key, amount)

        wallet = await wallet_service.get_wallet(db_session, user_id=user.id)
        assert wallet.balance == sum(first_amount_by_key.values())
        assert await wallet_service.find_inconsistencies(db_session) == []

    async def test_concurrent_credits_of_one_key_apply_once(
        self, app: FastAPI, live_account: MakeAccount
    ) -> None:
        user = (await live_account()).user

        async def attempt() -> bool:
            async with app.state.sessionmaker() as session, session.begin():
                return await credit(session, user.id, 1_000, "payment:same-gateway-payment")

        results = await asyncio.gather(*(attempt() for _ in range(5)))

        assert sorted(results) == [False, False, False, False, True]
        async with app.state.sessionmaker() as session:
            wallet = await wallet_service.get_wallet(session, user_id=user.id)
            assert wallet.balance == 1_000

    async def test_refuses_a_non_positive_amount(
        self, db_session: AsyncSession, account: MakeAccount
    ) -> None:
        user = (await account()).user
        with pytest.raises(ValueError, match="positive"):
            await credit(db_session, user.id, 0, "payment:zero")


class TestLedgerIsAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE sessions.wallet_ledger_entry SET amount = amount + 1",
            "DELETE FROM sessions.wallet_ledger_entry",
        ],
    )
    async def test_the_database_refuses_edits(
        self, db_session: AsyncSession, account: MakeAccount, statement: str
    ) -> None:
        user = (await account()).user
        await credit(db_session, user.id, 100, "payment:history")

        with pytest.raises(DBAPIError, match="append-only"):
            async with db_session.begin_nested():
                await db_session.execute(text(statement))


class TestConsistency:
    async def test_finds_a_balance_that_drifted_from_its_ledger(
        self, db_session: AsyncSession, account: MakeAccount, settings: Settings
    ) -> None:
        user = (await account()).user
        await credit(db_session, user.id, 500, "payment:real")
        await db_session.execute(
            update(Wallet).where(Wallet.user_id == user.id).values(balance=Wallet.balance + 1)
        )

        problems = await wallet_service.find_inconsistencies(db_session)

        assert [(p.balance, p.ledger_sum) for p in problems] == [(501, 500)]
