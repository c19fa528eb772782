"""Request dependencies shared by the gateway's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from payment_gateway.clients import DarajaClients
from payment_gateway.config import Settings
from payment_gateway.integrations.daraja import DarajaClient


# Async on purpose: FastAPI runs plain `def` dependencies in a thread pool, a needless hop here.
async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _daraja_clients(request: Request) -> DarajaClients:
    clients: DarajaClients = request.app.state.daraja_clients
    return clients


async def _daraja(clients: Annotated[DarajaClients, Depends(_daraja_clients)]) -> DarajaClient:
    """The client of the active environment (stored credentials, else settings)."""
    return await clients.active()


async def _redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


SettingsDep = Annotated[Settings, Depends(_settings)]
DarajaDep = Annotated[DarajaClient, Depends(_daraja)]
DarajaClientsDep = Annotated[DarajaClients, Depends(_daraja_clients)]
RedisDep = Annotated[Redis, Depends(_redis)]
