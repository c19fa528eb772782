"""Which embedded server is whose: the owner record beside a server's data, the process holding a
port, and the registry of servers this process started (stopped at its end, or by a watchdog).

A server whose owner died without stopping it (a SIGKILLed test run) is a leftover: from our own
data directory it is adopted; from another checkout's it is stopped so ours can take the port.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


def wait_for_port(port: int, what: str, log: Path, *, pid_file: Path | None = None) -> None:
    """Until the server listens on ``port`` and, with ``pid_file``, has written it: Redis opens
    its port before it writes its pid file, and a stop that found no pid file would leave it
    running."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if port_open(port) and (pid_file is None or pid_file.exists()):
            return
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise RuntimeError(f"{what} did not open port {port} within {START_TIMEOUT_S}s:\n{tail}")


class EmbeddedServer(Protocol):
    name: str
    port: int
    started_here: bool
    adopted: bool

    def stop(self) -> None: ...


_started_here: list[EmbeddedServer] = []
_started_lock = threading.Lock()


def register_started(server: EmbeddedServer) -> None:
    server.started_here = True
    with _started_lock:
        _started_here.append(server)


def stop_servers_started_here() -> list[str]:
    """Stop every embedded server this process started (or adopted), newest first; safe to call
    twice and from a watchdog thread. Returns their names."""
    stopped: list[str] = []
    while True:
        with _started_lock:
            if not _started_here:
                return stopped
            server = _started_here.pop()
        server.stop()
        stopped.append(server.name)


@dataclass(frozen=True)
class Owner:
    pid: int
    persistent: bool

    def gone(self) -> bool:
        return not self.persistent and not process_alive(self.pid)


def process_alive(pid: int) -> bool:
    try:
        status: str = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return False
    return status != "zombie"


def write_owner(path: Path, *, persistent: bool) -> None:
    path.write_text(json.dumps({"pid": os.getpid(), "persistent": persistent}))


def read_owner(path: Path) -> Owner | None:
    try:
        data = json.loads(path.read_text())
        return Owner(pid=int(data["pid"]), persistent=bool(data["persistent"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Listener:
    """The process holding a port, as far as we may know it."""

    pid: int
    exe: str
    cwd: Path | None


def listener(port: int) -> Listener | None:
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return None
    for connection in connections:
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
            and connection.pid
        ):
            try:
                process = psutil.Process(connection.pid)
                exe = process.exe()
                cwd: Path | None = Path(process.cwd()).resolve()
            except psutil.Error:
                return Listener(connection.pid, "?", None)
            return Listener(connection.pid, exe, cwd)
    return None


def stop_process(pid: int, sig: int, port: int, what: str) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not process_alive(pid) and not port_open(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the leftover {what} (pid {pid}) did not stop within {START_TIMEOUT_S}s")


def pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget(server: EmbeddedServer) -> None:
    with _started_lock:
        if server in _started_here:
            _started_here.remove(server)


def reuse_or_clear_port(
    server: EmbeddedServer,
    *,
    data_dir: Path,
    pid_file: Path,
    owner_file: Callable[[Path], Path],
    exe_marker: str,
    stop_signal: int,
    persistent: bool,
    setting: str,
) -> bool:
    """Our port is open: True when the server on it is ours to use, False once another
    checkout's leftover is stopped; anything else is an error naming the holder."""
    holder = listener(server.port)
    if holder is None:
        if pid_alive(pid_file):
            return True
        raise port_taken(server.port, None, setting)
    # Both servers run in their data directory, so the holder's working directory says whose
    # data it serves.
    if holder.cwd == data_dir.resolve():
        owner = read_owner(owner_file(holder.cwd))
        if owner is not None and owner.gone():
            # Its command was killed before it could stop it: this command takes it over.
            write_owner(owner_file(holder.cwd), persistent=persistent)
            server.adopted = True
            if not persistent:
                register_started(server)
        return True
    if holder.cwd is not None and exe_marker in holder.exe:
        owner = read_owner(owner_file(holder.cwd))
        if owner is not None and owner.gone():
            stop_process(holder.pid, stop_signal, server.port, server.name)
            return False
    raise port_taken(server.port, holder, setting)


def require_running(server: EmbeddedServer) -> None:
    if not port_open(server.port):
        raise RuntimeError(f"the embedded {server.name} on port {server.port} is not running")


def port_taken(port: int, holder: Listener | None, setting: str) -> RuntimeError:
    who = "another program" if holder is None else f"{holder.exe} (pid {holder.pid})"
    where = "" if holder is None or holder.cwd is None else f" serving {holder.cwd}"
    return RuntimeError(f"port {port} is taken by {who}{where}; stop it or set {setting}")
