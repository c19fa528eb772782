"""Run every benchmark module named in BENCHMARKS (or those given on the command line)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS: list[str] = [
    "simulator_load",
    "callback_ingest",
    "initiation",
    "notification_latency",
    "statement_import",
    "console_stats",
    "console_export",
]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    if not names:
        print("no benchmarks registered yet")
        return 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
