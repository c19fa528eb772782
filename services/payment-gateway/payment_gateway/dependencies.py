"""Request dependencies shared by the gateway's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import DarajaClient
from shared.db import get_db_session

# `scope="function"` ends the session (commit, then enqueue) before the response is sent: a
# caller that gets a 201 can read what it created, and a failing commit is never answered 2xx.
# (FastAPI's default for a yield dependency is after the response; shared.db.SessionDep has it.)
SessionDep = Annotated[AsyncSession, Depends(get_db_session, scope="function")]


# Async on purpose: FastAPI runs plain `def` dependencies in a thread pool, a needless hop here.
async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _daraja(request: Request) -> DarajaClient:
    daraja: DarajaClient = request.app.state.daraja
    return daraja


SettingsDep = Annotated[Settings, Depends(_settings)]
DarajaDep = Annotated[DarajaClient, Depends(_daraja)]
