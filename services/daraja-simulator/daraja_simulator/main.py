"""The daraja-simulator app factory. Its state lives in memory; it needs no database or Redis,
so its readiness has nothing to check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from daraja_simulator import __doc__ as description
from daraja_simulator.config import Settings
from daraja_simulator.config import settings as default_settings
from shared.app import create_base_app
from shared.logging import configure_logging


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or default_settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.readiness = {}
        yield

    app = create_base_app(
        title="daraja-simulator", version="0.1.0", description=description or "", lifespan=lifespan
    )
    app.state.settings = settings
    return app


def build() -> FastAPI:
    """Entry point for uvicorn's `--factory`."""
    configure_logging(
        level=default_settings.LOG_LEVEL, json=default_settings.LOG_JSON, service="daraja_simulator"
    )
    return create_app()
