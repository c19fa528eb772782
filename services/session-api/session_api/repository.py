"""session-api's repository base: `shared.repository.RepositoryBase` plus one page of a query with
the count of all its rows, and a row locked for an update."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select

from session_api.pagination import PageParams
from shared.repository import RepositoryBase

M = TypeVar("M")


class Repository(RepositoryBase[M]):
    async def lock(self, id: Any) -> M | None:
        """The row locked until the transaction ends, its columns re-read: they may have changed
        since it was loaded (by another transaction, after a *commit, then call out*)."""
        statement: Select[M] = (
            self.select()
            .where(self.model.id == id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self.get_one_or_none(statement)

    async def paginate(
        self, statement: Select[*tuple[Any, ...]], page: PageParams
    ) -> tuple[list[Any], int]:
        """The page's rows (the object itself when a row holds one) and the total row count."""
        total = await self.session.scalar(
            select(func.count()).select_from(statement.order_by(None).subquery())
        )
        result = await self.session.execute(statement.limit(page.page_size).offset(page.offset))
        rows = [row[0] if len(row) == 1 else tuple(row) for row in result]
        return rows, total or 0
