"""Audit jobs: link newly committed entries (queued by every `record`, at most one a second),
sign the head every `AUDIT_CHECKPOINT_INTERVAL_MIN` minutes, archive rows past retention daily.
Each is safe to run twice: the chainer links only unlinked rows under its lock, a checkpoint is
skipped when the head has not moved, and the archive takes only rows still past retention."""

from __future__ import annotations

from typing import Any

from session_api.audit import service
from session_api.config import Settings
from session_api.tasks import registry
from shared.audit.trail import CHAIN_TASK
from shared.worker import task_session

ARCHIVER = "system:session-worker"


@registry.task(CHAIN_TASK, max_tries=3, timeout_s=120)
async def chain(ctx: dict[str, Any]) -> int:
    async with task_session(ctx) as session:
        return await service.chain(session, settings=ctx["settings"])


async def checkpoint(ctx: dict[str, Any]) -> int | None:
    """Cron: chain what is waiting, then sign the committed head (two units of work, so the
    signed head is one that is committed)."""
    settings: Settings = ctx["settings"]
    await chain(ctx)
    async with task_session(ctx) as session:
        signed = await service.checkpoint(session, settings=settings)
    return signed.seq if signed is not None else None


async def archive(ctx: dict[str, Any]) -> int:
    """Cron: archive rows past retention, one file per batch, until none is left."""
    settings: Settings = ctx["settings"]
    files = 0
    while True:
        async with task_session(ctx) as session:
            written = await service.archive(session, settings=settings, actor=ARCHIVER)
        if written is None:
            return files
        files += 1
