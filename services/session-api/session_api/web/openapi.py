"""Print session-api's OpenAPI document (what `make web-api-types` turns into the web app's types,
and what tests/web/test_api_types.py compares them with)."""

from __future__ import annotations

import json
import sys
from typing import Any


def document() -> dict[str, Any]:
    from session_api.main import create_app

    return create_app().openapi()


def main() -> None:
    json.dump(document(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
