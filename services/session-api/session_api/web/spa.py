"""Serving the built app: a router default, so it answers only what no API route matched (an
API route with another method still answers 405) and unknown API paths stay JSON 404s."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

from session_api.web import service

IMMUTABLE = "public, max-age=31536000, immutable"


def install(app: FastAPI, web_dir: Path) -> None:
    fallback = app.router.default

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "/")
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or service.is_api_path(path)
        ):
            await fallback(scope, receive, send)
            return
        found = service.resolve(web_dir, path)
        if found is None:
            raise HTTPException(
                status_code=404,
                detail=f"{path} is not a file of the web app"
                if (web_dir / "index.html").is_file()
                else "the web app is not built here: `make run` builds it (or `make web-build`)",
            )
        # Hashed assets never change; index.html is checked every time so a new build shows.
        cache = IMMUTABLE if found.parent.name == "assets" else "no-cache"
        response = FileResponse(found, headers={"Cache-Control": cache})
        await response(scope, receive, send)

    app.router.default = serve
