"""Every query of the audit trail, shared by both services (each binds its own two models)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Select, delete, func, select, text

from shared.audit.models import ARCHIVED
from shared.repository import RepositoryBase

E = TypeVar("E")

# Read by the table's trigger: the archiver's deletes are the only ones it lets through.
ARCHIVING_SETTING = "mpesa.audit_archiving"


@dataclass(frozen=True)
class AuditFilters:
    actor: str | None = None
    action: str | None = None
    subject: str | None = None
    at_from: datetime | None = None
    at_to: datetime | None = None


class AuditRepository(RepositoryBase[E]):
    """Entries (`model`) and checkpoints (`checkpoint_model`) of one service's trail."""

    checkpoint_model: ClassVar[type[Any]]

    async def lock_chain(self, key: int) -> None:
        """The chainer's lock, held until the transaction ends: one writer of the chain."""
        await self.session.execute(select(func.pg_advisory_xact_lock(key)))

    async def head(self) -> Any | None:
        """The chained row with the highest seq."""
        statement = self.select().where(self.model.seq.is_not(None)).order_by(self.model.seq.desc())
        return await self.get_one_or_none(statement.limit(1))

    async def first_chained(self) -> Any | None:
        statement = self.select().where(self.model.seq.is_not(None)).order_by(self.model.seq)
        return await self.get_one_or_none(statement.limit(1))

    async def by_seq(self, seq: int) -> Any | None:
        return await self.get_one_or_none(self.select().where(self.model.seq == seq))

    async def unchained(self, limit: int) -> Sequence[Any]:
        """Committed rows waiting for their link, oldest insert first."""
        statement = self.select().where(self.model.hash.is_(None)).order_by(self.model.id)
        return await self.get_all(statement.limit(limit))

    async def count_unchained(self) -> int:
        statement = select(func.count()).select_from(self.model).where(self.model.hash.is_(None))
        return int(await self.session.scalar(statement) or 0)

    async def chained_page(self, *, from_seq: int, limit: int) -> Sequence[Any]:
        statement = (
            self.select().where(self.model.seq >= from_seq).order_by(self.model.seq).limit(limit)
        )
        return await self.get_all(statement)

    async def first_seq_at_or_after(self, moment: datetime) -> int | None:
        statement = select(func.min(self.model.seq)).where(self.model.at >= moment)
        value = await self.session.scalar(statement)
        return int(value) if value is not None else None

    async def latest_archive(self) -> Any | None:
        """The newest record of an archive (it accounts for every row before the first kept)."""
        statement = (
            self.select()
            .where(self.model.action == ARCHIVED, self.model.seq.is_not(None))
            .order_by(self.model.seq.desc())
        )
        return await self.get_one_or_none(statement.limit(1))

    async def archivable(self, *, before: datetime, below_seq: int, limit: int) -> Sequence[Any]:
        """The oldest chained rows, a gap-free prefix of the chain, up to the first row recorded
        at or after `before`; never the head (`below_seq`), which the chain continues from."""
        newer = select(func.min(self.model.seq)).where(self.model.at >= before).scalar_subquery()
        statement = (
            self.select()
            .where(
                self.model.seq.is_not(None),
                self.model.seq < below_seq,
                self.model.seq < func.coalesce(newer, below_seq),
            )
            .order_by(self.model.seq)
            .limit(limit)
        )
        return await self.get_all(statement)

    async def delete_through(self, seq: int) -> int:
        """Remove archived rows: the trigger allows it only while this transaction says it is
        archiving."""
        await self.session.execute(
            text("SELECT set_config(:name, 'on', true)"), {"name": ARCHIVING_SETTING}
        )
        result = await self.session.execute(
            delete(self.model).where(self.model.seq.is_not(None), self.model.seq <= seq)
        )
        await self.session.execute(
            text("SELECT set_config(:name, 'off', true)"), {"name": ARCHIVING_SETTING}
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def search(self, filters: AuditFilters) -> Select[Any]:
        """Entries matching the filters, newest first."""
        statement = self.select()
        if filters.actor is not None:
            statement = statement.where(self.model.actor == filters.actor)
        if filters.action is not None:
            if filters.action.endswith(".*"):
                prefix = filters.action[:-1].replace("%", r"\%").replace("_", r"\_")
                statement = statement.where(self.model.action.like(prefix + "%"))
            else:
                statement = statement.where(self.model.action == filters.action)
        if filters.subject is not None:
            statement = statement.where(self.model.subject == filters.subject)
        if filters.at_from is not None:
            statement = statement.where(self.model.at >= filters.at_from)
        if filters.at_to is not None:
            statement = statement.where(self.model.at < filters.at_to)
        return statement.order_by(self.model.id.desc())

    async def checkpoints(self, *, from_seq: int = 0) -> Sequence[Any]:
        statement = (
            select(self.checkpoint_model)
            .where(self.checkpoint_model.seq >= from_seq)
            .order_by(self.checkpoint_model.seq, self.checkpoint_model.id)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def last_checkpoint(self) -> Any | None:
        statement = select(self.checkpoint_model).order_by(self.checkpoint_model.id.desc())
        return (await self.session.execute(statement.limit(1))).scalars().first()

    async def add_checkpoint(self, checkpoint: Any) -> Any:
        self.session.add(checkpoint)
        await self.session.flush()
        return checkpoint
