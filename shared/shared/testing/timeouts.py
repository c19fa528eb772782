"""pytest-timeout's signal method, aware of asyncio: most tests here wait in the event loop, where
a thread dump only shows the selector. On timeout the failure says where every task waits (the
test's own await chain first)."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import traceback
from typing import Any

import pytest


def set_timer(item: pytest.Item, timeout_s: float) -> None:
    """Fail ``item`` after ``timeout_s`` seconds from SIGALRM (main thread only)."""

    def on_timeout(signum: int, frame: object) -> None:
        __tracebackhide__ = True
        waiting_in_loop = _loop_is_waiting()
        where = describe_waiting_tasks()
        # In the event loop's selector the traceback says nothing: the tasks' await chains are
        # the story. In running code (sync or async), the traceback points at the line.
        pytest.fail(f"Timeout >{timeout_s}s\n{where}", pytrace=not waiting_in_loop)

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    item.cancel_timeout = cancel  # type: ignore[attr-defined]
    signal.signal(signal.SIGALRM, on_timeout)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)


def in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _loop_is_waiting() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return asyncio.current_task() is None


def describe_waiting_tasks() -> str:
    """Where each task of the running event loop waits: its whole await chain, outermost first,
    and what the innermost await is on (a future, another task). Other threads' stacks follow."""
    parts = []
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        for task in sorted(asyncio.all_tasks(loop), key=lambda t: t.get_name()):
            lines = [f"task {task.get_name()} waits at:"]
            awaited: object = task.get_coro()
            # Task.get_stack() gives one frame for a coroutine; the chain is in cr_await.
            while (frame := _frame_of(awaited)) is not None:
                code = frame.f_code
                lines.append(f"  {code.co_filename}:{frame.f_lineno} in {code.co_name}")
                awaited = _awaited_by(awaited)
            parts.append("\n".join(lines))
    current = threading.get_ident()
    for ident, frame in sys._current_frames().items():
        if ident != current:
            stack = "".join(traceback.format_stack(frame))
            parts.append(f"thread {ident}:\n{stack}")
    return "\n".join(parts) + "\n"


def _frame_of(awaitable: object) -> Any:
    for attribute in ("cr_frame", "gi_frame", "ag_frame"):
        frame = getattr(awaitable, attribute, None)
        if frame is not None:
            return frame
    return None


def _awaited_by(awaitable: object) -> object:
    for attribute in ("cr_await", "gi_yieldfrom", "ag_await"):
        awaited = getattr(awaitable, attribute, None)
        if awaited is not None:
            return awaited
    return None
