"""Page-numbered lists: `?page=&page_size=` in, `{"items", "page", "page_size", "total"}` out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)
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


def page_of(schema: type[T], result: tuple[Sequence[Any], int], params: PageParams) -> Page[T]:
    """A page answer from a service's `(rows, total)`: each row shown as `schema`."""
    rows, total = result
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(row) for row in rows],
        page=params.page,
        page_size=params.page_size,
        total=total,
    )
