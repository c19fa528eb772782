"""Request dependencies shared by the gateway's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import DarajaClient


# Async on purpose: FastAPI runs plain `def` dependencies in a thread pool, a needless hop here.
async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _daraja(request: Request) -> DarajaClient:
    daraja: DarajaClient = request.app.state.daraja
    return daraja


SettingsDep = Annotated[Settings, Depends(_settings)]
DarajaDep = Annotated[DarajaClient, Depends(_daraja)]
