"""The web app's API types (web/src/api/schema.d.ts) are generated from session-api's OpenAPI
document: this fails when the committed file no longer matches what the code serves, so the
client cannot drift from the server. `make web-api-types` regenerates it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from session_api.web.openapi import document
from tests.web.web import API_TYPES, NODE_MODULES, WEB, missing_web_install, node

pytestmark = pytest.mark.timeout(60)


def test_the_committed_api_types_match_session_apis_openapi(tmp_path: Path) -> None:
    reason = missing_web_install()
    if reason is not None:
        pytest.skip(reason)
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document(), indent=1, sort_keys=True))
    generated = tmp_path / "schema.d.ts"
    cli = NODE_MODULES / "openapi-typescript" / "bin" / "cli.js"

    subprocess.run(
        [node(), str(cli), str(spec), "-o", str(generated)],
        cwd=WEB,
        check=True,
        capture_output=True,
        timeout=50,
    )

    assert generated.read_text() == API_TYPES.read_text(), (
        "web/src/api/schema.d.ts no longer matches session-api's OpenAPI: run `make web-api-types`"
    )
