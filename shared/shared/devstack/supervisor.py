"""A small process supervisor for `make run`: start every process of a Procfile, prefix each line
of their output with the process name, and stop them all on Ctrl-C, SIGTERM, or when one exits."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE_S = 10.0
READY_TIMEOUT_S = 60.0
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_COLOURS = ("36", "33", "32", "35", "34", "31", "96", "93")


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    command: str


def read_procfile(path: Path) -> list[ProcessSpec]:
    specs = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        if not command.strip():
            raise ValueError(f"{path}: line {raw!r} is not 'name: command'")
        specs.append(ProcessSpec(name.strip(), command.strip()))
    return specs


class Supervisor:
    def __init__(
        self,
        specs: list[ProcessSpec],
        env: dict[str, str],
        *,
        ready_urls: list[str] | None = None,
        banner: str | None = None,
    ) -> None:
        self.specs = specs
        self.env = env
        self.ready_urls = ready_urls or []
        self.banner = banner
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.width = max((len(s.name) for s in specs), default=0)
        self._stopping = asyncio.Event()

    def _prefix(self, name: str) -> str:
        index = [s.name for s in self.specs].index(name)
        colour = _COLOURS[index % len(_COLOURS)]
        label = name.ljust(self.width)
        if sys.stdout.isatty():
            return f"\033[{colour}m{label} |\033[0m "
        return f"{label} | "

    def say(self, message: str) -> None:
        print(f"{'supervisor'.ljust(self.width)} | {message}", flush=True)

    async def _pump(self, name: str, stream: asyncio.StreamReader) -> None:
        prefix = self._prefix(name)
        while True:
            line = await stream.readline()
            if not line:
                return
            sys.stdout.write(prefix + line.decode(errors="replace"))
            sys.stdout.flush()

    async def _start(self, spec: ProcessSpec) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_shell(
            f"exec {spec.command}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=self.env,
            # Each child leads its own process group so a stop reaches its children too.
            start_new_session=True,
        )
        self.processes[spec.name] = process
        return process

    async def run(self) -> int:
        """Run every process until Ctrl-C, SIGTERM, SIGHUP or one of them exits; returns 1 when a
        process exited on its own. The signal handlers last only as long as this call: left
        installed, they would make the rest of the calling process deaf to Ctrl-C."""
        loop = asyncio.get_running_loop()
        previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, self._stopping.set)
        try:
            return await self._run()
        finally:
            for sig, handler in previous.items():
                loop.remove_signal_handler(sig)
                signal.signal(sig, signal.SIG_DFL if handler is None else handler)

    async def _run(self) -> int:
        pumps = []
        waits = []
        for spec in self.specs:
            process = await self._start(spec)
            assert process.stdout is not None
            pumps.append(asyncio.create_task(self._pump(spec.name, process.stdout)))
            waits.append(asyncio.create_task(self._watch(spec.name, process)))
        announce = asyncio.create_task(self._announce_when_ready())
        stop_wait = asyncio.create_task(self._stopping.wait())
        await asyncio.wait([stop_wait, *waits], return_when=asyncio.FIRST_COMPLETED)
        exit_code = 0
        if not self._stopping.is_set():
            self.say("a process exited; stopping the others")
            exit_code = 1
        await self.stop_all()
        await asyncio.gather(*pumps, return_exceptions=True)
        stop_wait.cancel()
        announce.cancel()
        return exit_code

    async def _announce_when_ready(self) -> None:
        import httpx

        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
        async with httpx.AsyncClient(timeout=2) as client:
            for url in self.ready_urls:
                while True:
                    try:
                        if (await client.get(url)).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if asyncio.get_running_loop().time() > deadline:
                        self.say(f"{url} is not ready after {READY_TIMEOUT_S}s; see the logs above")
                        return
                    # Polling is the only way to learn when another process is ready.
                    await asyncio.sleep(0.25)
        if self.banner:
            print(self.banner, flush=True)

    async def _watch(self, name: str, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        if not self._stopping.is_set():
            self.say(f"{name} exited with code {code}")

    async def stop_all(self) -> None:
        self._stopping.set()
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(p.wait() for p in self.processes.values())), STOP_GRACE_S
            )
        except TimeoutError:
            for name, process in self.processes.items():
                if process.returncode is None:
                    self.say(f"{name} did not stop within {STOP_GRACE_S}s; killing it")
                    _signal_group(process, signal.SIGKILL)
            await asyncio.gather(*(p.wait() for p in self.processes.values()))


def _signal_group(process: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
