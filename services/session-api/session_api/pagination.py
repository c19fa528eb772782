"""Page-numbered lists: `?page=&page_size=` in, `{"items", "page", "page_size", "total"}` out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T", bound=BaseModel)
AnyRow = Row[*tuple[Any, ...]]
AnySelect = Select[*tuple[Any, ...]]
MAX_PAGE_SIZE = 100
# Deep enough for any real list, and page * page_size stays far inside PostgreSQL's OFFSET range.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")] = 20,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int


async def paginate(
    session: AsyncSession,
    statement: AnySelect,
    params: PageParams,
    schema: type[T],
    *,
    build: Callable[[AnyRow], T] | None = None,
) -> Page[T]:
    """One page of a select with the count of all its rows. Each row is shown as `schema`: read
    from the row's ORM object, or made by `build` from the whole row."""
    total = await session.scalar(
        select(func.count()).select_from(statement.order_by(None).subquery())
    )
    page = statement.limit(params.page_size).offset(params.offset)
    if build is None:
        items = [schema.model_validate(obj) for obj in await session.scalars(page)]
    else:
        items = [build(row) for row in await session.execute(page)]
    return Page[schema](  # type: ignore[valid-type]
        items=items, page=params.page, page_size=params.page_size, total=total or 0
    )
