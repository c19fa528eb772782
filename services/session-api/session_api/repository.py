"""What every session-api repository that lists things shares: one page of a query and the count
of all its rows."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select

from session_api.pagination import PageParams
from shared.repository import RepositoryBase

M = TypeVar("M")


class PaginatedRepository(RepositoryBase[M]):
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
