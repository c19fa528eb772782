"""The registry of payment-gateway's arq jobs; each domain's `tasks.py` registers into it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from arq.worker import func

from shared.worker import TaskRegistry

registry = TaskRegistry()

TaskFn = TypeVar("TaskFn", bound=Callable[..., Awaitable[Any]])


def task(name: str, *, max_tries: int = 3, timeout_s: float = 60.0) -> Callable[[TaskFn], TaskFn]:
    """Register a job whose result is not kept: job ids then only deduplicate jobs that are
    queued or running, so the same id can be enqueued again once a job has finished."""

    def decorate(fn: TaskFn) -> TaskFn:
        registry.functions.append(
            func(fn, name=name, max_tries=max_tries, timeout=timeout_s, keep_result=0)  # type: ignore[arg-type]
        )
        return fn

    return decorate
