import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from shared.devstack.supervisor import ProcessSpec, Supervisor, read_procfile

# Unit tests: anything slower than this is stuck.
pytestmark = pytest.mark.timeout(20)


class TestReadProcfile:
    def test_reads_names_and_commands_skipping_comments(self, tmp_path: Path) -> None:
        procfile = tmp_path / "Procfile"
        procfile.write_text("# comment\n\nweb: python -m web --port 1\nworker:  python -m w\n")
        assert read_procfile(procfile) == [
            ProcessSpec("web", "python -m web --port 1"),
            ProcessSpec("worker", "python -m w"),
        ]

    def test_refuses_a_line_without_a_command(self, tmp_path: Path) -> None:
        procfile = tmp_path / "Procfile"
        procfile.write_text("web\n")
        with pytest.raises(ValueError, match="not 'name: command'"):
            read_procfile(procfile)


class TestSupervisor:
    async def test_prefixes_output_and_stops_everything_when_one_exits(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        sleeper = f"{sys.executable} -c 'import time; print(\"up\", flush=True); time.sleep(60)'"
        quitter = f"{sys.executable} -c 'print(\"bye\")'"
        supervisor = Supervisor(
            [ProcessSpec("sleeper", sleeper), ProcessSpec("quitter", quitter)], dict(os.environ)
        )
        code = await asyncio.wait_for(supervisor.run(), timeout=20)
        out = capsys.readouterr().out
        assert code == 1
        assert "quitter | bye" in out
        assert all(p.returncode is not None for p in supervisor.processes.values())

    async def test_gives_back_the_signal_handlers_it_took(self) -> None:
        # Left behind, its handlers made the rest of a test run ignore Ctrl-C and SIGTERM.
        def ours(signum: int, frame: object) -> None:
            raise AssertionError("not expected to be called")

        previous = {sig: signal.signal(sig, ours) for sig in (signal.SIGTERM, signal.SIGHUP)}
        try:
            before = {sig: signal.getsignal(sig) for sig in (*previous, signal.SIGINT)}
            quitter = f"{sys.executable} -c 'pass'"
            supervisor = Supervisor([ProcessSpec("quitter", quitter)], dict(os.environ))
            await asyncio.wait_for(supervisor.run(), timeout=20)
            after = {sig: signal.getsignal(sig) for sig in before}
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        assert after == before
        assert after[signal.SIGTERM] is ours
