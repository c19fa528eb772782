"""The base every repository builds on: one class per model, built from the session it works in,
holding every query of its model so services never write SQL or return statements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Self, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")


class RepositoryBase(Generic[M]):
    """``XRepository.from_session(session)``; the session is ``self.session``.

    Subclasses set ``model`` and add one method per question a service asks."""

    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> Self:
        return cls(session)

    async def get_one_or_none(self, statement: Select[M]) -> M | None:
        return (await self.session.execute(statement)).scalars().first()

    async def get_all(self, statement: Select[M]) -> Sequence[M]:
        return (await self.session.execute(statement)).scalars().all()

    async def get_by_id(self, id: Any, *, for_update: bool = False) -> M | None:
        statement: Select[M] = self.select().where(self.model.id == id)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    def select(self) -> Select[M]:
        return select(self.model)

    async def create(self, obj: M, *, flush: bool = False) -> M:
        self.session.add(obj)
        if flush:
            await self.session.flush()
        return obj
