from __future__ import annotations

from fastapi import APIRouter

from session_api.dependencies import SettingsDep
from session_api.web import service
from session_api.web.schemas import AppConfig

router = APIRouter(tags=["web"])


@router.get("/v1/app-config", response_model=AppConfig)
async def app_config(settings: SettingsDep) -> AppConfig:
    """The deployment's public settings: test mode, the paybill number, amount limits."""
    return service.app_config(settings)
