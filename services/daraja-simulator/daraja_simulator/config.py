"""Simulator settings: environment variables prefixed `SIMULATOR_`."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SIMULATOR_")

    PORT: int = 8002


settings = Settings()
