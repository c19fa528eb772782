"""The test runner itself: a stuck test fails at its time limit saying where it waits; Ctrl-C or
SIGTERM ends `make test` promptly with no embedded server left running; and the servers a
SIGKILLed run leaves behind do not stop the next `make run`.

Each case runs `make` for real on its own embedded servers (own data directory and ports), with
a test that never ends (programs/stuck_run.py) standing in for a hung suite."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from shared.devstack.servers import EmbeddedRedis
from shared.testing import wait_until
from shared.testing.processes import free_port, port_open

REPO = Path(__file__).resolve().parents[2]
STUCK_RUN = "tests/e2e/programs/stuck_run.py"
STOP_LIMIT_S = 10.0
START_LIMIT_S = 90.0

pytestmark = pytest.mark.timeout(180)


@dataclass
class Sandbox:
    """A data directory and ports of its own, so these runs never touch the suite's servers."""

    root: Path
    pg_port: int
    redis_port: int

    @property
    def var(self) -> Path:
        return self.root / "var"

    @property
    def marker(self) -> Path:
        return self.root / "stuck"

    @property
    def log(self) -> Path:
        return self.root / "make.log"

    def pytest_options(self) -> str:
        # Its own basetemp: pytest prunes old ones under /tmp/pytest-of-<user>, which would
        # delete this very run's directories from under it.
        return f"-p no:randomly -p no:cacheprovider -q --basetemp={self.root / 'pytest'}"

    def log_tail(self) -> str:
        """The run's last lines, after the lines that name an error (a traceback's last line is
        often far from the end of the output)."""
        if not self.log.exists():
            return ""
        text = self.log.read_text(errors="replace")
        errors = [line for line in text.splitlines() if "Error:" in line][-10:]
        return "\n".join(errors) + "\n...\n" + text[-3000:]

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "TEST_REDIS_URL"}
            and not k.startswith("PYTEST")
        }
        return {
            **env,
            "DEVSTACK_VAR_DIR": str(self.var),
            "DEVSTACK_PG_PORT": str(self.pg_port),
            "DEVSTACK_REDIS_PORT": str(self.redis_port),
            "STUCK_RUN_MARKER": str(self.marker),
        }

    def server_pids(self) -> list[int]:
        files = [
            self.var / "postgres" / "data" / "postmaster.pid",
            self.var / "redis" / "redis.pid",
        ]
        return [int(f.read_text().split()[0]) for f in files if f.exists()]

    def running(self) -> list[str]:
        """What of this sandbox still runs: live server processes and open ports."""
        alive = [f"pid {pid}" for pid in self.server_pids() if psutil.pid_exists(pid)]
        ports = [f"port {p}" for p in (self.pg_port, self.redis_port) if port_open(p)]
        return alive + ports

    def stop_everything(self) -> None:
        for pid in self.server_pids():
            if psutil.pid_exists(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    # Not under tmp_path: PostgreSQL runs as another user, who must be able to reach its data
    # directory, and any pytest process that starts meanwhile makes pytest's own temporary root
    # private again (0700), cutting a running server off from its files.
    root = Path(tempfile.mkdtemp(prefix="mpesa-sandbox-"))
    box = Sandbox(root, free_port(), free_port())
    try:
        yield box
    finally:
        box.stop_everything()
        shutil.rmtree(root, ignore_errors=True)


async def _start_stuck_make_test(box: Sandbox) -> asyncio.subprocess.Process:
    log = box.log.open("wb")
    process = await asyncio.create_subprocess_exec(
        "make",
        "--no-print-directory",
        "test",
        f"PYTEST_ARGS={STUCK_RUN} {box.pytest_options()}",
        # One xdist worker: the controller-and-workers shape of a real run, at less cost.
        "TEST_WORKERS=1",
        # Only pytest: the web app's unit tests have nothing to do with stopping a run.
        "WEB_TESTS=0",
        cwd=REPO,
        env=box.env(),
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
        # Its own process group, like a terminal's foreground job: Ctrl-C goes to all of it.
        start_new_session=True,
    )

    log.close()

    async def stuck() -> bool:
        if process.returncode is not None:
            raise AssertionError(
                f"make test ended early with {process.returncode}:\n{box.log_tail()}"
            )
        return box.marker.exists()

    await wait_until(stuck, within=START_LIMIT_S, what="the stuck test to start", interval_s=0.1)
    assert len(box.server_pids()) == 2, "the run should have started its own servers"
    return process


async def test_a_stuck_test_fails_at_its_time_limit_naming_where_it_waits(
    sandbox: Sandbox,
) -> None:
    run = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        STUCK_RUN,
        *sandbox.pytest_options().split(),
        "--timeout=3",
        cwd=REPO,
        env=sandbox.env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(run.communicate(), START_LIMIT_S)
    finally:
        if run.returncode is None:
            os.killpg(run.pid, signal.SIGKILL)
    text = output.decode()
    assert run.returncode == 1, text
    assert "Timeout >3.0s" in text
    # The await chain down to the Event the test waits on, not just the event loop's selector.
    assert "stuck_run.py:" in text and "in test_waits_for_ever" in text
    assert "locks.py:" in text and "in wait" in text
    assert sandbox.running() == []


@pytest.mark.parametrize(
    ("sig", "to_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c-to-the-terminal-group", "sigterm-to-make"],
)
async def test_a_signal_ends_make_test_within_10s_with_no_server_left(
    sandbox: Sandbox, sig: signal.Signals, to_group: bool
) -> None:
    make = await _start_stuck_make_test(sandbox)
    started = time.monotonic()
    if to_group:
        os.killpg(make.pid, sig)
    else:
        make.send_signal(sig)
    try:
        await asyncio.wait_for(make.wait(), STOP_LIMIT_S)
    finally:
        if make.returncode is None:
            os.killpg(make.pid, signal.SIGKILL)
    elapsed = time.monotonic() - started
    assert make.returncode != 0
    assert elapsed < STOP_LIMIT_S, sandbox.log_tail()
    assert sandbox.running() == [], sandbox.log_tail()


async def test_servers_left_by_a_killed_run_do_not_stop_make_run(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    make = await _start_stuck_make_test(sandbox)
    left_behind = sandbox.server_pids()
    os.killpg(make.pid, signal.SIGKILL)
    await make.wait()
    assert all(psutil.pid_exists(pid) for pid in left_behind)

    # `make run` with a Procfile of one quiet process instead of the whole platform.
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f'probe: {sys.executable} -c \'import time; print("probe up", flush=True); '
        "time.sleep(600)'\n"
    )
    run = await asyncio.create_subprocess_exec(
        "make",
        "--no-print-directory",
        "run",
        f"PROCFILE={procfile}",
        "READY_URLS=",
        cwd=REPO,
        env=sandbox.env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert run.stdout is not None
    seen: list[str] = []

    try:
        async with asyncio.timeout(START_LIMIT_S):
            while not seen or "probe up" not in seen[-1]:
                line = (await run.stdout.readline()).decode()
                if not line:
                    raise AssertionError("make run ended early:\n" + "".join(seen))
                seen.append(line)
        os.killpg(run.pid, signal.SIGINT)
        rest = await asyncio.wait_for(run.stdout.read(), STOP_LIMIT_S)
        await asyncio.wait_for(run.wait(), STOP_LIMIT_S)
    finally:
        if run.returncode is None:
            os.killpg(run.pid, signal.SIGKILL)
    output = "".join(seen) + rest.decode()
    assert "(embedded, reused: left running by a killed command)" in output, output
    # It took over the killed run's servers, so it stopped them when it ended.
    assert "stopped embedded" in output
    assert sandbox.running() == []


def test_another_checkouts_leftover_redis_is_stopped_to_free_our_port(tmp_path: Path) -> None:
    port = free_port()
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    # Started by a process that then ended without stopping it: as a SIGKILLed run leaves it.
    script = (
        "from pathlib import Path; from shared.devstack.servers import EmbeddedRedis; "
        f"EmbeddedRedis(Path({str(theirs)!r}), port={port}).ensure_running()"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO, timeout=60)
    leftover = int((theirs / "redis.pid").read_text())
    server = EmbeddedRedis(ours, port=port)
    try:
        server.ensure_running()
        assert not psutil.pid_exists(leftover) or psutil.Process(leftover).status() == "zombie"
        assert server.started_here
        assert (ours / "redis.pid").exists()
    finally:
        server.stop()
        if psutil.pid_exists(leftover):
            os.kill(leftover, signal.SIGKILL)
    assert not port_open(port)
