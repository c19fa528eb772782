from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from session_api.models import AttemptStatus, Wallet, WalletDeposit, WalletLedgerEntry
from session_api.pagination import PageParams
from session_api.repository import Repository
from shared.repository import RepositoryBase


class WalletRepository(RepositoryBase[Wallet]):
    model = Wallet

    async def ensure(self, user_id: uuid.UUID) -> None:
        await self.session.execute(
            insert(Wallet)
            .values(id=uuid.uuid4(), user_id=user_id, balance=0)
            .on_conflict_do_nothing(index_elements=[Wallet.user_id])
        )

    async def get_by_user(self, user_id: uuid.UUID, *, for_update: bool = False) -> Wallet | None:
        statement = select(Wallet).where(Wallet.user_id == user_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def inconsistent_wallets(self) -> list[tuple[uuid.UUID, int, int]]:
        """`(wallet id, balance, sum of entries)` for every wallet where the two differ."""
        entry_sum = (
            select(
                WalletLedgerEntry.wallet_id,
                func.coalesce(func.sum(WalletLedgerEntry.amount), 0).label("total"),
            )
            .group_by(WalletLedgerEntry.wallet_id)
            .subquery()
        )
        total = func.coalesce(entry_sum.c.total, 0)
        rows = await self.session.execute(
            select(Wallet.id, Wallet.balance, total)
            .outerjoin(entry_sum, entry_sum.c.wallet_id == Wallet.id)
            .where(Wallet.balance != total)
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows]


class WalletLedgerEntryRepository(Repository[WalletLedgerEntry]):
    model = WalletLedgerEntry

    async def insert_entry(self, values: dict[str, Any]) -> uuid.UUID | None:
        """The new entry's id, or None when an entry with this `entry_key` already exists."""
        result = await self.session.execute(
            insert(WalletLedgerEntry)
            .values(id=uuid.uuid4(), **values)
            .on_conflict_do_nothing(index_elements=[WalletLedgerEntry.entry_key])
            .returning(WalletLedgerEntry.id)
        )
        return result.scalar_one_or_none()

    async def exists(self, entry_key: str) -> bool:
        result = await self.session.execute(
            select(WalletLedgerEntry.id).where(WalletLedgerEntry.entry_key == entry_key).limit(1)
        )
        return result.scalar_one_or_none() is not None

    async def entries(
        self,
        wallet_id: uuid.UUID,
        *,
        created_from: datetime | None,
        created_to: datetime | None,
        page: PageParams,
    ) -> tuple[list[WalletLedgerEntry], int]:
        statement = select(WalletLedgerEntry).where(WalletLedgerEntry.wallet_id == wallet_id)
        if created_from is not None:
            statement = statement.where(WalletLedgerEntry.created_at >= created_from)
        if created_to is not None:
            statement = statement.where(WalletLedgerEntry.created_at < created_to)
        return await self.paginate(
            statement.order_by(WalletLedgerEntry.created_at.desc(), WalletLedgerEntry.id), page
        )


class WalletDepositRepository(Repository[WalletDeposit]):
    model = WalletDeposit

    async def get_deposit(
        self, deposit_id: uuid.UUID, *, user_id: uuid.UUID, for_update: bool = False
    ) -> WalletDeposit | None:
        statement = select(WalletDeposit).where(
            WalletDeposit.id == deposit_id, WalletDeposit.user_id == user_id
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def deposits(
        self,
        user_id: uuid.UUID,
        *,
        statuses: list[AttemptStatus] | None,
        created_from: datetime | None,
        created_to: datetime | None,
        page: PageParams,
    ) -> tuple[list[WalletDeposit], int]:
        statement = select(WalletDeposit).where(WalletDeposit.user_id == user_id)
        if statuses:
            statement = statement.where(WalletDeposit.status.in_(statuses))
        if created_from is not None:
            statement = statement.where(WalletDeposit.created_at >= created_from)
        if created_to is not None:
            statement = statement.where(WalletDeposit.created_at < created_to)
        return await self.paginate(
            statement.order_by(WalletDeposit.created_at.desc(), WalletDeposit.id), page
        )
