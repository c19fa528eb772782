"""Request dependencies every domain uses, declared once as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from session_api.config import Settings
from session_api.integrations.gateway import GatewayClient
from shared import db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


def get_gateway(request: Request) -> GatewayClient:
    gateway: GatewayClient = request.app.state.gateway
    return gateway


def get_request_id(request: Request) -> str | None:
    request_id: str | None = request.scope.get("state", {}).get("request_id")
    return request_id


SettingsDep = Annotated[Settings, Depends(get_settings)]
RedisDep = Annotated[Redis, Depends(get_redis)]
GatewayDep = Annotated[GatewayClient, Depends(get_gateway)]
RequestIdDep = Annotated[str | None, Depends(get_request_id)]
SessionDep = db.SessionDep
