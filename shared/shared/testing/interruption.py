"""Ctrl-C and SIGTERM end a test run promptly and never leave an embedded server behind."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

import psutil

from shared.devstack import servers

# After Ctrl-C or SIGTERM the run gets this long to finish on its own (teardown, stopping the
# embedded servers) before it is ended for it; a second signal ends it at once.
INTERRUPT_GRACE_S = 7.0


class Interruption:
    """Both signals raise KeyboardInterrupt at once, wherever the run is (pytest then tears down
    and ``pytest_sessionfinish`` stops the servers). Nothing may keep the run alive after that: a
    watchdog stops the servers this process started and exits when the grace runs out, and a
    second signal does so immediately. Installed handlers of our own also keep asyncio's runner
    from turning the first Ctrl-C into a cancellation that a stuck task could swallow.
    """

    def __init__(self, grace_s: float = INTERRUPT_GRACE_S) -> None:
        self.grace_s = grace_s
        self.finished = threading.Event()
        self.signalled: int | None = None

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.signalled is not None:
            self._end_now(signum)
        self.signalled = signum
        threading.Thread(target=self._watch, name="interrupt-watchdog", daemon=True).start()
        # A SIGTERM sent to this process alone (make passes it on to us only) reaches pytest-xdist's
        # workers too, so they stop at once instead of finishing the test they are stuck in.
        for child in psutil.Process().children():
            with contextlib.suppress(psutil.Error):
                child.send_signal(signal.SIGINT)
        raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    def _watch(self) -> None:
        if not self.finished.wait(self.grace_s):
            assert self.signalled is not None
            self._end_now(self.signalled)

    def _end_now(self, signum: int) -> None:
        sys.stderr.write(
            f"\n{signal.Signals(signum).name}: stopping the embedded servers this run started "
            "and exiting\n"
        )
        sys.stderr.flush()
        servers.stop_servers_started_here()
        # pytest-xdist's workers, a stuck test's subprocesses: nothing of this run outlives it.
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
        os._exit(128 + signum)
