"""The dev-stack launcher.

    python -m shared.devstack up                  start (or reuse) the embedded servers, print URLs
    python -m shared.devstack down                stop the embedded servers under ./var
    python -m shared.devstack exec -- CMD ...     run CMD with DATABASE_URL/REDIS_URL set, then stop
                                                  the servers this command started
    python -m shared.devstack run [--release CMD] [--procfile Procfile] [--ready-url URL]
                                  [--banner FILE]
                                                  servers, release commands, then every Procfile
                                                  process under one supervisor until Ctrl-C; the
                                                  banner is printed once every URL answers 200

Nothing embedded starts for a URL already given in DATABASE_URL / REDIS_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from shared.devstack.servers import (
    DEFAULT_VAR_DIR,
    EmbeddedPostgres,
    EmbeddedRedis,
    Stack,
    ensure_stack,
)
from shared.devstack.supervisor import Supervisor, read_procfile


def _stack_from_env(*, persistent: bool = False) -> Stack:
    return ensure_stack(
        os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL"), persistent=persistent
    )


def _env_for(stack: Stack) -> dict[str, str]:
    # Children run `python ...`: make that this virtualenv's interpreter.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {
        **os.environ,
        "PATH": path,
        "DATABASE_URL": stack.database_url,
        "REDIS_URL": stack.redis_url,
    }


def _describe(stack: Stack) -> str:
    def origin(server: object) -> str:
        if server is None:
            return "given"
        if getattr(server, "adopted", False):
            return "embedded, reused: left running by a killed command"
        return "embedded, started" if getattr(server, "started_here", False) else "embedded, reused"

    return (
        f"DATABASE_URL={stack.database_url}  ({origin(stack.postgres)})\n"
        f"REDIS_URL={stack.redis_url}  ({origin(stack.redis)})"
    )


def cmd_up(_: argparse.Namespace) -> int:
    stack = _stack_from_env(persistent=True)
    print(_describe(stack))
    return 0


def cmd_down(_: argparse.Namespace) -> int:
    EmbeddedRedis(DEFAULT_VAR_DIR / "redis").stop()
    EmbeddedPostgres(DEFAULT_VAR_DIR / "postgres" / "data").stop()
    print("embedded servers stopped")
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    command = [c for c in args.command if c != "--"]
    if not command:
        print("exec: give a command after --", file=sys.stderr)
        return 2
    stack = _stack_from_env()
    try:
        return subprocess.run(command, env=_env_for(stack), check=False).returncode
    finally:
        stack.stop_started()


def cmd_run(args: argparse.Namespace) -> int:
    stack = _stack_from_env()
    try:
        print(_describe(stack), flush=True)
        env = _env_for(stack)
        for release in args.release:
            print(f"release: {release}", flush=True)
            result = subprocess.run(release, shell=True, env=env, check=False)  # noqa: S602 (our Makefile)
            if result.returncode != 0:
                print(f"release command failed ({result.returncode}): {release}", file=sys.stderr)
                return result.returncode
        specs = read_procfile(Path(args.procfile))
        banner = Path(args.banner).read_text() if args.banner else None
        supervisor = Supervisor(specs, env, ready_urls=args.ready_url, banner=banner)
        return asyncio.run(supervisor.run())
    finally:
        stopped = stack.started
        stack.stop_started()
        if stopped:
            print(f"stopped embedded {' and '.join(stopped)}", flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    # SIGTERM unwinds like Ctrl-C, so the `finally` that stops the embedded servers always runs.
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="python -m shared.devstack")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up").set_defaults(fn=cmd_up)
    sub.add_parser("down").set_defaults(fn=cmd_down)
    exec_parser = sub.add_parser("exec")
    exec_parser.add_argument("command", nargs=argparse.REMAINDER)
    exec_parser.set_defaults(fn=cmd_exec)
    run_parser = sub.add_parser("run")
    run_parser.add_argument("--procfile", default="Procfile")
    run_parser.add_argument("--release", action="append", default=[])
    run_parser.add_argument("--banner", default=None, help="file printed once all are ready")
    run_parser.add_argument("--ready-url", action="append", default=[])
    run_parser.set_defaults(fn=cmd_run)
    args = parser.parse_args(argv)
    code: int = args.fn(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
