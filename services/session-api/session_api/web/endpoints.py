from __future__ import annotations

from fastapi import APIRouter

from session_api.dependencies import SessionDep, SettingsDep
from session_api.platform_settings import service as platform_settings_service
from session_api.web import service
from session_api.web.schemas import AppConfig

router = APIRouter(tags=["web"])


@router.get("/v1/config", response_model=AppConfig)
async def app_config(settings: SettingsDep, session: SessionDep) -> AppConfig:
    """Public: the payment environment, test mode, business name, paybill and amount limits."""
    platform = await platform_settings_service.current(session)
    return service.app_config(settings, platform)
