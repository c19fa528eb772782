"""The job buffer: jobs a unit of work queues go to arq only after it commits, and are dropped if
it rolls back, so a worker never sees a row that does not exist (or no longer will)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

_PENDING = "pending_jobs"
_QUEUE = "arq"


@dataclass(frozen=True)
class PendingJob:
    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def bind(session: AsyncSession, arq: ArqRedis | None) -> None:
    """Where this session's jobs go when it commits (None: nowhere, as in a CLI without Redis)."""
    session.info[_QUEUE] = arq


def bound(session: AsyncSession) -> ArqRedis | None:
    """The Redis connection this session's jobs go to (also good for publishing after commit)."""
    arq: ArqRedis | None = session.info.get(_QUEUE)
    return arq


def enqueue_after_commit(session: AsyncSession, name: str, *args: Any, **kwargs: Any) -> None:
    """Queue a job to be sent to arq once ``session`` commits; dropped if it rolls back.

    ``kwargs`` may hold arq's own options (``_job_id``, ``_defer_by``, ...).
    """
    session.info.setdefault(_PENDING, []).append(PendingJob(name, args, kwargs))


def pending(session: AsyncSession) -> list[PendingJob]:
    return list(session.info.get(_PENDING, []))


def discard(session: AsyncSession) -> None:
    session.info.pop(_PENDING, None)


async def send(session: AsyncSession) -> int:
    """Send the jobs a committed session queued. Returns how many were sent."""
    jobs: list[PendingJob] = session.info.pop(_PENDING, [])
    arq: ArqRedis | None = session.info.get(_QUEUE)
    if arq is None:
        return 0
    for job in jobs:
        await arq.enqueue_job(job.name, *job.args, **job.kwargs)
    return len(jobs)
